#include "iclab/experiments/runner.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "iclab/experiments/evaluate.hpp"
#include "iclab/io/atomic_file.hpp"
#include "iclab/io/progress.hpp"
#include "iclab/io/table.hpp"
#include "iclab/io/text_file.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/version.hpp"

namespace iclab {
namespace fs = std::filesystem;

std::string Shard::suffix() const {
  if (count == 1) return "";
  return ".shard-" + std::to_string(index) + "-of-" + std::to_string(count);
}

Shard parse_shard(const std::string& text) {
  const std::regex pattern(R"((\d{1,9})/(\d{1,9}))");
  std::smatch match;
  if (!std::regex_match(text, match, pattern))
    throw InvalidArgument("--shard: expected I/N with 0 <= I < N (e.g. 3/16), got '" + text + "'");
  Shard shard{std::stol(match[1]), std::stol(match[2])};
  if (shard.count < 1 || shard.index >= shard.count)
    throw InvalidArgument("--shard: expected I/N with 0 <= I < N (e.g. 3/16), got '" + text + "'");
  return shard;
}

std::string describe_points(const std::vector<std::size_t>& points, std::size_t max_items) {
  std::string out;
  std::size_t items = 0, i = 0;
  while (i < points.size()) {
    std::size_t j = i;
    while (j + 1 < points.size() && points[j + 1] == points[j] + 1) ++j;
    if (items == max_items) {
      out += ", ...";
      break;
    }
    if (!out.empty()) out += ", ";
    out += std::to_string(points[i]);
    if (j > i) out.append("-").append(std::to_string(points[j]));
    ++items;
    i = j + 1;
  }
  return out;
}

namespace {

// Missing files read as empty: the callers check existence where it matters.
std::string read_text(const fs::path& path) { return read_text_file(path.string()).value_or(""); }

// Appends with one write() per call, retrying on short writes; throws on failure.
class AppendFile {
 public:
  explicit AppendFile(const fs::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error("cannot open '" + path.string() + "': " + std::strerror(errno));
  }
  ~AppendFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  void append(const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::runtime_error("cannot write '" + path_.string() + "': " + std::strerror(errno));
      done += static_cast<std::size_t>(n);
    }
  }
  void sync() { ::fsync(fd_); }

 private:
  fs::path path_;
  int fd_ = -1;
};

// The finished part of a run: the journal's complete lines, checked against the partial file.
struct Journal {
  bool valid = false;
  std::uintmax_t end = 0;           // bytes of the partial file that hold finished points
  std::string text;                 // the journal's complete lines
  std::vector<std::size_t> points;  // finished, in order
};

Journal read_journal(const fs::path& partial, const fs::path& journal, const std::string& header) {
  Journal j;
  std::error_code ec;
  if (!fs::exists(partial, ec) || !fs::exists(journal, ec)) return j;
  const std::string text = read_text(journal);
  const std::uintmax_t size = fs::file_size(partial, ec);
  std::size_t pos = 0;
  bool have_header = false;
  while (true) {
    const std::size_t newline = text.find('\n', pos);
    if (newline == std::string::npos) break;  // a torn last line: ignored
    std::istringstream line(text.substr(pos, newline - pos));
    std::string first;
    std::uintmax_t offset = 0;
    if (!(line >> first >> offset) || offset > size) break;
    if (!have_header) {
      if (first != "header" || offset != header.size()) return j;
      have_header = true;
    } else {
      if (first.empty() || first.find_first_not_of("0123456789") != std::string::npos) break;  // not ours
      j.points.push_back(std::stoul(first));
    }
    j.end = offset;
    pos = newline + 1;
    j.text = text.substr(0, pos);
  }
  if (!have_header) return j;
  std::ifstream in(partial, std::ios::binary);
  std::string head(header.size(), '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  j.valid = head == header;
  return j;
}

std::string rows_text(const std::vector<std::string>& columns, std::vector<std::vector<Cell>> rows) {
  Table table(columns);
  for (auto& row : rows) table.add_row(std::move(row));
  const std::string csv = table.to_csv();
  return csv.substr(csv.find('\n') + 1);
}

std::string header_line(const std::vector<std::string>& columns) { return Table(columns).to_csv(); }

// An exclusive lock on the shard's files for the lifetime of a run: a second `iclab run` on the same
// directory and shard (e.g. a job submitted twice) would interleave appends.
class RunLock {
 public:
  explicit RunLock(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX | LOCK_NB) != 0)
      throw InvalidArgument("--out: another `iclab run` is writing '" + path.parent_path().string() +
                            "' (this shard's lock " + path.filename().string() + " is held)");
  }
  ~RunLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

void check_same_experiment(const fs::path& dir, const Experiment& experiment) {
  const fs::path copy = dir / "experiment.toml";
  const Experiment existing = load_experiment(copy.string());
  if (existing.identity_hash() != experiment.identity_hash())
    throw InvalidArgument("--out: '" + dir.string() + "' holds results of a different experiment (" + copy.string() +
                          "); use another --out or remove that directory");
}

}  // namespace

RunSummary run_experiment(const Experiment& experiment, const RunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const std::unique_ptr<Evaluator> evaluator_owner = make_evaluator(options.evaluator, experiment);
  Evaluator& evaluator = *evaluator_owner;
  // The shard holds whole groups (points evaluated together), chosen by group index: the grouping is
  // the experiment's, so a point's rows do not depend on the shard or on resumes.
  const std::vector<ExperimentPoint> all_points = expand_points(experiment);
  std::vector<std::vector<const ExperimentPoint*>> groups;
  std::vector<ExperimentPoint> points;
  {
    const auto partition = evaluator.groups(all_points);
    for (std::size_t g = 0; g < partition.size(); ++g) {
      if (!options.shard.contains(g)) continue;
      groups.emplace_back();
      for (std::size_t i : partition[g]) {
        groups.back().push_back(&all_points[i]);
        points.push_back(all_points[i]);
      }
    }
  }
  // Every impossible point is refused before any output exists.
  for (const auto& p : points) evaluator.validate(p);

  const fs::path dir(options.out_dir);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw InvalidArgument("--out: '" + dir.string() + "' exists and is not a directory");
  if (fs::exists(dir / "experiment.toml", ec)) check_same_experiment(dir, experiment);
  fs::create_directories(dir, ec);
  if (ec) throw InvalidArgument("--out: cannot create '" + dir.string() + "': " + ec.message());
  const std::string stem = "results" + options.shard.suffix();
  const RunLock lock(dir / (stem + ".lock"));
  if (!fs::exists(dir / "experiment.toml"))
    write_file_atomically((dir / "experiment.toml").string(), options.experiment_text);

  const fs::path final_path = dir / (stem + ".csv");
  const fs::path partial = dir / (stem + ".partial.csv");
  const fs::path journal_path = dir / (stem + ".journal");
  RunSummary summary;
  summary.results_path = final_path.string();
  summary.points_total = experiment.num_points();
  summary.points_in_shard = points.size();
  if (fs::exists(final_path)) {  // finished earlier: nothing to do
    summary.points_resumed = points.size();
    return summary;
  }

  const std::string header = header_line(evaluator.columns());
  Journal journal = read_journal(partial, journal_path, header);
  if (journal.valid) {
    fs::resize_file(partial, journal.end);  // drops rows of a point whose journal entry never came
    write_file_atomically(journal_path.string(), journal.text);
  } else {
    write_file_atomically(partial.string(), header);
    write_file_atomically(journal_path.string(), "header " + std::to_string(header.size()) + "\n");
    journal = Journal{true, header.size(), "", {}};
  }
  const std::set<std::size_t> finished(journal.points.begin(), journal.points.end());
  summary.points_resumed = finished.size();

  std::uintmax_t end = journal.end;
  AppendFile rows_file(partial), journal_file(journal_path);
  ProgressBar progress("run " + experiment.name + options.shard.suffix(),
                       static_cast<long>(points.size() - finished.size()) * evaluator.work_units());
  if (!options.progress) progress.finish();
  for (const auto& group : groups) {
    std::vector<const ExperimentPoint*> todo;
    for (const ExperimentPoint* p : group)
      if (!finished.count(p->index)) todo.push_back(p);
    if (todo.empty()) continue;
    if (options.checkpoint) options.checkpoint();
    const auto rows = evaluator.evaluate_group(todo, [&] {
      progress.advance();
      if (options.checkpoint) options.checkpoint();
    });
    // The group's rows in one write, then its journal lines in one write: a kill between the two
    // leaves rows beyond the journal, which a resume truncates.
    std::string text, journal_lines;
    for (std::size_t k = 0; k < todo.size(); ++k) {
      text += rows_text(evaluator.columns(), rows[k]);
      journal_lines += std::to_string(todo[k]->index) + " " + std::to_string(end + text.size()) + "\n";
    }
    rows_file.append(text);
    end += text.size();
    journal_file.append(journal_lines);
  }
  progress.finish();
  rows_file.sync();

  // Complete: count the rows, publish the file under its final name, then the metadata.
  const std::string csv = read_text(partial);
  for (char c : csv) summary.rows += c == '\n';
  summary.rows -= 1;
  fs::rename(partial, final_path);
  fs::remove(journal_path, ec);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json meta;
  meta["program"] = "iclab";
  meta["version"] = std::string(version());
  meta["git"] = std::string(git_describe());
  meta["command_line"] = options.command_line;
  meta["experiment"] = experiment.identity();
  meta["experiment_hash"] = experiment.identity_hash();
  meta["shard"] = {{"index", options.shard.index}, {"count", options.shard.count}};
  meta["points_total"] = summary.points_total;
  meta["points_in_shard"] = summary.points_in_shard;
  meta["points_resumed"] = summary.points_resumed;
  meta["rows"] = summary.rows;
  meta["seconds_last_session"] = summary.seconds;
  meta["conventions"] = conventions_json();
  meta["columns"] = evaluator.description();
  write_file_atomically(final_path.string() + ".meta.json", meta.dump(2) + "\n");
  return summary;
}

MergeResult merge_results(const std::vector<std::string>& dirs, const EvaluatorFactory& evaluator) {
  if (dirs.empty()) throw InvalidArgument("DIR: give at least one result directory");
  MergeResult result;
  std::optional<std::string> identity;
  std::string header;  // the same for every directory: they hold one experiment
  std::map<std::size_t, std::pair<std::string, std::string>> rows;  // point -> (text, file)
  const std::regex complete_name(R"(results(\.shard-\d+-of-\d+)?\.csv)");
  const std::regex partial_name(R"(results(\.shard-\d+-of-\d+)?\.partial\.csv)");
  for (const std::string& d : dirs) {
    const fs::path dir(d);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw InvalidArgument("DIR: '" + d + "' is not a directory");
    if (!fs::exists(dir / "experiment.toml"))
      throw InvalidArgument("DIR: '" + d + "' has no experiment.toml (not an `iclab run` output directory)");
    const Experiment experiment = load_experiment((dir / "experiment.toml").string());
    if (identity && *identity != experiment.identity_hash())
      throw InvalidArgument("DIR: '" + d + "' holds a different experiment than '" + dirs.front() + "'");
    identity = experiment.identity_hash();
    result.points_total = experiment.num_points();
    const std::string expected_header = header_line(make_evaluator(evaluator, experiment)->columns());
    header = expected_header;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      const std::string name = file.filename().string();
      std::string text;
      if (std::regex_match(name, complete_name)) {
        text = read_text(file);
      } else if (std::regex_match(name, partial_name)) {
        const std::string base = name.substr(0, name.size() - std::string(".partial.csv").size());
        const Journal j = read_journal(file, dir / (base + ".journal"), expected_header);
        if (!j.valid) continue;
        text = read_text(file).substr(0, j.end);
      } else {
        continue;
      }
      result.inputs.push_back(file.string());
      const std::size_t first_newline = text.find('\n');
      if (first_newline == std::string::npos || text.substr(0, first_newline + 1) != expected_header)
        throw InvalidArgument("DIR: '" + file.string() + "' does not have the columns of its experiment");
      std::map<std::size_t, std::string> here;
      std::size_t pos = first_newline + 1;
      while (pos < text.size()) {
        std::size_t newline = text.find('\n', pos);
        if (newline == std::string::npos) newline = text.size() - 1;
        const std::string line = text.substr(pos, newline + 1 - pos);
        const std::string index = line.substr(0, line.find(','));
        if (index.empty() || index.find_first_not_of("0123456789") != std::string::npos)
          throw InvalidArgument("DIR: '" + file.string() + "' has a row without a point index");
        here[std::stoul(index)] += line;
        pos = newline + 1;
      }
      for (auto& [point, lines] : here) {
        auto [it, inserted] = rows.emplace(point, std::make_pair(lines, file.string()));
        if (!inserted && it->second.first != lines)
          throw InvalidArgument("DIR: point " + std::to_string(point) + " differs between '" + it->second.second +
                                "' and '" + file.string() + "'");
      }
    }
  }
  result.csv = header;
  for (const auto& [point, entry] : rows) {
    if (point >= result.points_total)
      throw InvalidArgument("DIR: point " + std::to_string(point) + " is outside the experiment's grid");
    result.csv += entry.first;
  }
  for (std::size_t i = 0; i < result.points_total; ++i)
    if (!rows.count(i)) result.missing.push_back(i);
  return result;
}

}  // namespace iclab
