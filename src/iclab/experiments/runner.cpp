#include "iclab/experiments/runner.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <typeinfo>

#include "iclab/experiments/columns.hpp"
#include "iclab/experiments/evaluate.hpp"
#include "iclab/io/atomic_file.hpp"
#include "iclab/io/progress.hpp"
#include "iclab/io/table.hpp"
#include "iclab/io/text_file.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/params/number.hpp"
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
  Shard shard{*to_integer<long>(match.str(1)), *to_integer<long>(match.str(2))};  // 1 to 9 digits: they fit
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
    fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);  // never through a link
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

// FNV-1a (64 bit) of a text, as 16 hex digits: the checksum of each point's rows in the journal and of
// a complete results file in its .meta.json. It detects accidents (torn, glued, edited or deleted
// lines), not forgery.
std::string checksum(std::string_view text) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

// A decimal point index or offset; nullopt for anything else (never std::stoul's exceptions).
std::optional<std::uintmax_t> parse_count(std::string_view text) { return to_integer<std::uintmax_t>(text); }

// The leading point index of a results row ("17,..."), or nullopt.
std::optional<std::size_t> row_point(std::string_view line) {
  const auto index = parse_count(line.substr(0, line.find(',')));
  if (!index) return std::nullopt;
  return static_cast<std::size_t>(*index);
}

// The finished part of a run: the journal's complete lines, each checked against the partial file.
struct Journal {
  bool valid = false;
  std::uintmax_t end = 0;           // bytes of the partial file that hold finished points
  std::string text;                 // the journal's verified lines
  std::vector<std::size_t> points;  // finished, in order
};

// Journal format: "header HEADER_BYTES EXPERIMENT_HASH", then "POINT END_OFFSET CHECKSUM" per finished
// point, CHECKSUM being that of the point's rows (the partial file's bytes from the previous END_OFFSET).
// An entry is trusted only when its rows are present, all start with its point index and match the
// checksum; reading stops at the first entry that is not (a torn tail, or an entry for an unfinished point).
Journal read_journal(const fs::path& partial, const fs::path& journal, const std::string& header,
                     const std::string& identity) {
  Journal j;
  std::error_code ec;
  if (!fs::exists(partial, ec) || !fs::exists(journal, ec)) return j;
  const std::string text = read_text(journal);
  const std::string rows = read_text(partial);
  if (rows.compare(0, header.size(), header) != 0) return j;
  std::size_t pos = 0;
  bool have_header = false;
  while (true) {
    const std::size_t newline = text.find('\n', pos);
    if (newline == std::string::npos) break;  // a torn last line: ignored
    std::istringstream line(text.substr(pos, newline - pos));
    std::string first, second, third, extra;
    if (!(line >> first >> second >> third) || (line >> extra)) break;
    const auto offset = parse_count(second);
    if (!offset || *offset > rows.size() || *offset < j.end) break;
    if (!have_header) {
      if (first != "header" || *offset != header.size() || third != identity) return j;
      have_header = true;
    } else {
      const auto point = parse_count(first);
      if (!point) break;
      const std::string_view segment = std::string_view(rows).substr(j.end, *offset - j.end);
      if (segment.empty() || segment.back() != '\n' || checksum(segment) != third) break;
      bool own_rows = true;
      for (std::size_t at = 0; at < segment.size(); at = segment.find('\n', at) + 1)
        own_rows = own_rows && row_point(segment.substr(at)) == static_cast<std::size_t>(*point);
      if (!own_rows) break;
      j.points.push_back(static_cast<std::size_t>(*point));
    }
    j.end = *offset;
    pos = newline + 1;
    j.text = text.substr(0, pos);
  }
  j.valid = have_header;
  return j;
}

// Cells of one CSV line as Table writes it (RFC-4180 quotes), for the shape check of merge.
std::size_t csv_cells(std::string_view line) {
  std::size_t cells = 1;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) ++cells;
  }
  return cells;
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
  // `blocking`: wait for the holder (the directory lock, held for milliseconds) instead of refusing.
  explicit RunLock(const fs::path& path, bool blocking = false) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ < 0)
      throw InvalidArgument("--out: cannot create the lock file '" + path.string() + "': " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | (blocking ? 0 : LOCK_NB)) != 0)
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
  if (!std::isfinite(options.snapshot_every) || options.snapshot_every < 0)
    throw InvalidArgument("snapshot_every: must be a number of seconds >= 0 (0: no snapshots)");
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
  // Every impossible point is refused before any output exists, with the file and line of the key the
  // message names ("--tau: ..." -> "exp.toml:7: parameters.tau: ...") where the experiment sets it.
  for (const auto& p : points) {
    try {
      evaluator.validate(p);
    } catch (const InvalidArgument& e) {
      const std::string message = e.what();
      const std::size_t dashes = message.find("--");
      std::size_t end = dashes == std::string::npos ? dashes : dashes + 2;
      while (end != std::string::npos && end < message.size() && (std::islower(message[end]) || message[end] == '_'))
        ++end;
      const std::string key = end == std::string::npos ? "" : message.substr(dashes + 2, end - dashes - 2);
      if (key.empty() || !experiment.sets(key)) throw;
      throw InvalidArgument(experiment.where(key) + ": " + message);
    }
  }

  const fs::path dir(options.out_dir);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw InvalidArgument("--out: '" + dir.string() + "' exists and is not a directory");
  if (fs::exists(dir / "experiment.toml", ec)) check_same_experiment(dir, experiment);
  const bool created_dir = fs::create_directories(dir, ec);
  if (ec) throw InvalidArgument("--out: cannot create '" + dir.string() + "': " + ec.message());
  const std::string identity = experiment.identity_hash();
  const std::string stem = "results" + options.shard.suffix();
  const RunLock lock(dir / (stem + ".lock"));
  {
    // The directory's lock, whatever the experiment or shard: the check of experiment.toml and its
    // creation are one step, so two different experiments started together on one --out cannot both
    // pass it (held for milliseconds; the shard's lock above is held for the whole run).
    const RunLock directory_lock(dir / "experiment.lock", true);
    if (fs::exists(dir / "experiment.toml", ec))
      check_same_experiment(dir, experiment);
    else
      write_file_atomically((dir / "experiment.toml").string(), options.experiment_text);
  }

  const fs::path final_path = dir / (stem + ".csv");
  const fs::path partial = dir / (stem + ".partial.csv");
  const fs::path journal_path = dir / (stem + ".journal");
  RunSummary summary;
  summary.results_path = final_path.string();
  summary.points_total = experiment.num_points();
  summary.points_in_shard = points.size();
  const fs::path meta_path = final_path.string() + ".meta.json";
  auto write_meta = [&](const std::string& csv, bool recreated) {
    std::size_t rows = 0;
    for (char c : csv) rows += c == '\n';
    summary.rows = rows - 1;
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    nlohmann::json meta;
    meta["program"] = "iclab";
    meta["version"] = std::string(version());
    meta["git"] = std::string(git_describe());
    meta["command_line"] = options.command_line;
    meta["experiment"] = experiment.identity();
    meta["experiment_hash"] = identity;
    meta["shard"] = {{"index", options.shard.index}, {"count", options.shard.count}};
    meta["points_total"] = summary.points_total;
    meta["points_in_shard"] = summary.points_in_shard;
    meta["points_resumed"] = summary.points_resumed;
    meta["snapshots_resumed"] = summary.snapshots_resumed;
    meta["rows"] = summary.rows;
    meta["checksum"] = {{"algorithm", "fnv1a-64"}, {"value", checksum(csv)}};
    if (recreated) meta["recreated"] = "the results file had no .meta.json; recreated from it by a later run";
    meta["seconds_last_session"] = summary.seconds;
    meta["conventions"] = conventions_json();
    meta["columns"] = evaluator.description();
    meta["column_meanings"] = column_meanings(evaluator.columns());  // docs/columns.md
    write_file_atomically(meta_path.string(), meta.dump(2) + "\n");
  };
  if (fs::exists(final_path)) {  // finished earlier: nothing to do but recreate missing metadata
    summary.points_resumed = points.size();
    if (!fs::exists(meta_path)) write_meta(read_text(final_path), true);
    return summary;
  }

  const std::string header = header_line(evaluator.columns());
  Journal journal = read_journal(partial, journal_path, header, identity);
  const std::string journal_header = "header " + std::to_string(header.size()) + " " + identity + "\n";
  if (journal.valid) {
    fs::resize_file(partial, journal.end);  // drops rows of a point whose journal entry never came
    write_file_atomically(journal_path.string(), journal.text);
  } else {
    write_file_atomically(partial.string(), header);
    write_file_atomically(journal_path.string(), journal_header);
    journal = Journal{true, header.size(), journal_header, {}};
  }
  const std::set<std::size_t> finished(journal.points.begin(), journal.points.end());
  summary.points_resumed = finished.size();

  std::uintmax_t end = journal.end;
  AppendFile rows_file(partial), journal_file(journal_path);
  ProgressBar progress("run " + experiment.name + options.shard.suffix(),
                       static_cast<long>(points.size() - finished.size()) * evaluator.work_units());
  if (!options.progress) progress.finish();
  std::size_t finished_now = 0;
  // A group's snapshots (results{S}.snapshot*, and a .tmp a kill left behind).
  const std::string snapshot_stem = stem + ".snapshot";
  auto remove_snapshots = [&] {
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.path().filename().string().rfind(snapshot_stem, 0) == 0) found.push_back(entry.path());
    for (const fs::path& f : found) fs::remove(f, ec);
  };
  // A failure while computing (an impossible point the checks could not foresee, a full disk): a
  // directory this run created and that holds no finished point is removed again; otherwise the
  // finished points stay journaled, and the message says how to resume.
  auto on_failure = [&] {
    if (finished.empty() && finished_now == 0) {
      remove_snapshots();
      for (const fs::path& f : {partial, journal_path, dir / (stem + ".lock")}) fs::remove(f, ec);
      bool others = false;
      for (const auto& entry : fs::directory_iterator(dir, ec))
        others = others || entry.path().filename().string().rfind("results", 0) == 0;
      if (created_dir && !others) {
        fs::remove(dir / "experiment.toml", ec);
        fs::remove(dir / "experiment.lock", ec);
        fs::remove(dir, ec);
      }
      return std::string("; nothing was kept");
    }
    return "; " + std::to_string(finished.size() + finished_now) + " finished points are kept in '" + dir.string() +
           "': rerun the same command to resume";
  };
  try {
    for (const auto& group : groups) {
      std::vector<const ExperimentPoint*> todo;
      for (const ExperimentPoint* p : group)
        if (!finished.count(p->index)) todo.push_back(p);
      if (todo.empty()) continue;
      if (options.checkpoint) options.checkpoint();
      GroupSnapshots snapshots;
      if (options.snapshot_every > 0) {
        snapshots.stem = (dir / snapshot_stem).string();
        snapshots.key = identity + " points";
        for (const ExperimentPoint* p : todo) {
          snapshots.key += ' ';
          snapshots.key += std::to_string(p->index);
        }
        snapshots.every_seconds = options.snapshot_every;
        snapshots.on_resume = [&](const std::string& what) {
          ++summary.snapshots_resumed;
          if (options.progress) std::fprintf(stderr, "\nrun %s: %s\n", experiment.name.c_str(), what.c_str());
        };
        snapshots.on_error = [&](const std::string& why) {
          std::fprintf(stderr, "\nrun %s: warning: %s\n", experiment.name.c_str(), why.c_str());
        };
      }
      evaluator.use_snapshots(snapshots);
      const auto rows = evaluator.evaluate_group(todo, [&] {
        progress.advance();
        if (options.checkpoint) options.checkpoint();
      });
      // The group's rows in one write, then its journal lines in one write: a kill between the two
      // leaves rows beyond the journal, which a resume truncates.
      std::string text, journal_lines;
      for (std::size_t k = 0; k < todo.size(); ++k) {
        const std::size_t before = text.size();
        text += rows_text(evaluator.columns(), rows[k]);
        journal_lines += std::to_string(todo[k]->index) + " " + std::to_string(end + text.size()) + " " +
                         checksum(std::string_view(text).substr(before)) + "\n";
      }
      rows_file.append(text);
      end += text.size();
      journal_file.append(journal_lines);
      finished_now += todo.size();
      remove_snapshots();  // the group is journaled: its snapshots are spent
    }
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(e.what() + on_failure());
  } catch (const std::runtime_error& e) {
    if (typeid(e) != typeid(std::runtime_error)) throw;  // a caller's own exception (checkpoint): unchanged
    throw std::runtime_error(e.what() + on_failure());
  }
  progress.finish();
  rows_file.sync();

  // Complete: the metadata (with the file's checksum) first, then the file under its final name, so that
  // a kill or a full disk between the two never leaves results{S}.csv without its .meta.json; a rerun
  // finds the journal complete and repeats both.
  write_meta(read_text(partial), false);
  fs::rename(partial, final_path);
  fs::remove(journal_path, ec);
  return summary;
}

namespace {

// A complete results file must come with its .meta.json (written before the file got its name), which
// names the same experiment and shard, and the file's row count and checksum must match it: a shard
// copied from another experiment, an edited value, a deleted, short or glued row all fail here.
void verify_complete(const fs::path& file, const std::string& text, const std::string& identity,
                     const std::string& suffix) {
  const fs::path meta_path = file.string() + ".meta.json";
  const auto where = [&] { return "merge: '" + file.string() + "'"; };
  const auto meta_text = read_text_file(meta_path.string());
  if (!meta_text)
    throw std::runtime_error(where() + " has no .meta.json; rerun its `iclab run` command to recreate it");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(*meta_text);
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(where() + ": its .meta.json is not valid JSON");
  }
  if (meta.value("experiment_hash", std::string()) != identity)
    throw std::runtime_error(where() + " was written by another experiment (hash " +
                             meta.value("experiment_hash", std::string("?")) + ", experiment.toml has " + identity +
                             ")");
  const nlohmann::json shard = meta.value("shard", nlohmann::json::object());
  const long count = shard.value("count", 0L), index = shard.value("index", -1L);
  const std::string expected_suffix = Shard{index, count}.suffix();
  if (count < 1 || expected_suffix != suffix)
    throw std::runtime_error(where() + " is named for another shard than its .meta.json records");
  if (!meta.contains("checksum"))
    throw std::runtime_error(where() + ": its .meta.json has no checksum (written by an older iclab; rerun it)");
  std::size_t rows = 0;
  for (char c : text) rows += c == '\n';
  if (rows == 0 || rows - 1 != meta.value("rows", std::size_t{0}))
    throw std::runtime_error(where() + " has " + std::to_string(rows == 0 ? 0 : rows - 1) +
                             " rows, its .meta.json records " + std::to_string(meta.value("rows", std::size_t{0})));
  if (checksum(text) != meta["checksum"].value("value", std::string()))
    throw std::runtime_error(where() + " does not match the checksum in its .meta.json (edited or damaged)");
}

}  // namespace

MergeResult merge_results(const std::vector<std::string>& dirs, const ColumnsFactory& columns) {
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
    const std::string identity_here = experiment.identity_hash();
    if (identity && *identity != identity_here)
      throw InvalidArgument("DIR: '" + d + "' holds a different experiment than '" + dirs.front() + "'");
    identity = identity_here;
    result.points_total = experiment.num_points();
    const std::string expected_header =
        header_line(columns ? columns(experiment) : make_point_evaluator(experiment)->columns());
    header = expected_header;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      const std::string name = file.filename().string();
      std::string text;
      std::smatch match;
      if (std::regex_match(name, match, complete_name)) {
        text = read_text(file);
      } else if (std::regex_match(name, partial_name)) {
        const std::string base = name.substr(0, name.size() - std::string(".partial.csv").size());
        const Journal j = read_journal(file, dir / (base + ".journal"), expected_header, identity_here);
        if (!j.valid) continue;
        text = read_text(file).substr(0, j.end);
      } else {
        continue;
      }
      result.inputs.push_back(file.string());
      const std::size_t first_newline = text.find('\n');
      if (first_newline == std::string::npos || text.substr(0, first_newline + 1) != expected_header)
        throw std::runtime_error("merge: '" + file.string() + "' line 1: not the columns of its experiment");
      const std::size_t width = csv_cells(std::string_view(expected_header).substr(0, first_newline));
      std::map<std::size_t, std::string> here;
      std::size_t pos = first_newline + 1;
      std::size_t line_number = 1;
      while (pos < text.size()) {
        ++line_number;
        const std::size_t newline = text.find('\n', pos);
        const auto where = [&] { return "merge: '" + file.string() + "' line " + std::to_string(line_number); };
        if (newline == std::string::npos) throw std::runtime_error(where() + ": a torn last line (no newline)");
        const std::string line = text.substr(pos, newline + 1 - pos);
        const auto point = row_point(line);
        if (!point) throw std::runtime_error(where() + ": a row without a point index");
        if (csv_cells(std::string_view(line).substr(0, line.size() - 1)) != width)
          throw std::runtime_error(where() + ": " + std::to_string(csv_cells(line.substr(0, line.size() - 1))) +
                                   " cells where the header has " + std::to_string(width) +
                                   " (a short, truncated or glued row)");
        here[*point] += line;
        pos = newline + 1;
      }
      // After the row checks, which name the line: then the file as a whole against its metadata.
      if (std::regex_match(name, match, complete_name)) verify_complete(file, text, identity_here, match[1].str());
      for (auto& [point, lines] : here) {
        auto [it, inserted] = rows.emplace(point, std::make_pair(lines, file.string()));
        if (!inserted && it->second.first != lines)
          throw std::runtime_error("merge: point " + std::to_string(point) + " differs between '" + it->second.second +
                                   "' and '" + file.string() + "'");
      }
    }
  }
  result.csv = header;
  for (const auto& [point, entry] : rows) {
    if (point >= result.points_total)
      throw std::runtime_error("merge: point " + std::to_string(point) + " of '" + entry.second +
                               "' is outside the experiment's grid");
    result.csv += entry.first;
  }
  for (std::size_t i = 0; i < result.points_total; ++i)
    if (!rows.count(i)) result.missing.push_back(i);
  return result;
}

}  // namespace iclab
