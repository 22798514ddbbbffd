// The crash-safe experiment runner and the merging of shards.
//
// Output directory layout (S = "" or ".shard-I-of-N"):
//   experiment.toml            the experiment as run (edit and rerun it with `iclab run`)
//   experiment.lock            the directory's lock: held (milliseconds) while a run checks or creates
//                              experiment.toml, so two different experiments cannot both claim the directory
//   results{S}.lock            the shard's lock, held for the whole run: a second run of the shard is refused
//   results{S}.partial.csv     while running: header, then each finished group's rows (points
//                              evaluated together, e.g. one ensemble of Transformers), one write per group
//   results{S}.journal         while running: "header HEADER_BYTES EXPERIMENT_HASH", then
//                              "POINT END_OFFSET CHECKSUM" per finished point (CHECKSUM: FNV-1a 64 of the
//                              point's rows, 16 hex digits), appended after its group's rows (one write per
//                              group). A resume trusts an entry only if its rows are present, all start with
//                              its point index and match the checksum; reading stops at the first that is not
//   results{S}.snapshot*       while a group runs, if its evaluator keeps snapshots (evaluate.hpp,
//                              GroupSnapshots: a Transformer ensemble's training state, saved atomically
//                              whenever RunOptions::snapshot_every seconds have passed since the last): a
//                              run killed inside the group continues from the last one; removed once the
//                              group is journaled.
//                              Each names the experiment hash and the group's points it belongs to, and a
//                              snapshot of anything else is ignored. Results are the same either way (the
//                              continuation is exact on the CPU).
//   results{S}.csv             when the run is complete (the partial file renamed), with
//   results{S}.csv.meta.json   version, conventions, timings, the experiment's identity and hash, the shard,
//                              the row count and the file's checksum ("checksum": {"algorithm": "fnv1a-64",
//                              "value"}). It is written before the rename, so a kill or a full disk between
//                              the two never leaves a results file without it (the rerun repeats both); a
//                              results file found without it (older versions) gets it recreated ("recreated").
// A killed run restarted with the same command truncates the partial file to its last verified point,
// skips the finished points and ends with a byte-identical results file: every random draw derives
// from (seed, point parameters, repetition), never from the order of work. A failure while computing
// removes what the run created when no point had finished, and otherwise keeps the journaled points and
// says that the same command resumes.
// merge verifies every complete file against its .meta.json (experiment hash, shard, rows, checksum),
// every row's point index and width, and the journal of unfinished shards as a resume does; it refuses
// (std::runtime_error, exit 1) naming the file and line rather than guessing.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "iclab/experiments/evaluate.hpp"
#include "iclab/experiments/experiment.hpp"

namespace iclab {

// A deterministic part of the grid: the groups of points (Evaluator::groups; one point each for the
// linear model's quantities, an ensemble's points for Transformers) with group index % count == index.
struct Shard {
  long index = 0;
  long count = 1;
  bool contains(std::size_t group) const { return static_cast<long>(group % static_cast<std::size_t>(count)) == index; }
  std::string suffix() const;  // "" or ".shard-I-of-N"
};
// "I/N" with 0 <= I < N (SLURM: --shard $SLURM_ARRAY_TASK_ID/N with --array=0-(N-1)).
Shard parse_shard(const std::string& text);

struct RunOptions {
  std::string out_dir;
  Shard shard;
  std::string experiment_text;  // the file as given, copied to out_dir/experiment.toml
  std::string command_line;
  bool progress = true;  // a progress bar with ETA on stderr
  // Makes the experiment's evaluator; empty: make_point_evaluator (the linear model's quantities).
  EvaluatorFactory evaluator;
  // Called before each group of points and after each unit of work (optional). It may throw to stop the
  // run (e.g. the Python module on Ctrl-C): the exception propagates, finished points stay journaled and
  // the same command resumes, exactly as after a kill.
  std::function<void()> checkpoint;
  // Seconds of a group's work between snapshots (results{S}.snapshot*, above); 0: none.
  double snapshot_every = 300;
};

struct RunSummary {
  std::string results_path;
  std::size_t points_total = 0;     // in the whole grid
  std::size_t points_in_shard = 0;  // this run's share
  std::size_t points_resumed = 0;   // found finished on disk
  std::size_t snapshots_resumed = 0;  // groups' work continued from a snapshot (results{S}.snapshot*)
  std::size_t rows = 0;
  double seconds = 0.0;
};

// Runs (or resumes) the experiment into options.out_dir. Throws InvalidArgument (exit 2) before any
// output when the experiment is impossible or out_dir holds a different experiment.
RunSummary run_experiment(const Experiment& experiment, const RunOptions& options);

struct MergeResult {
  std::string csv;  // header + the rows of every point found, in point order
  std::size_t points_total = 0;
  std::vector<std::size_t> missing;  // points found in no input
  std::vector<std::string> inputs;   // the result files read
};
// Reads the results (complete shards, and the verified journaled part of unfinished ones) of the same
// experiment from each directory. Throws InvalidArgument when the directories hold different
// experiments, std::runtime_error (naming the file, and the line where there is one) when a file fails
// its checks (above) or two inputs disagree on a point. `columns` gives the experiment's columns, its
// evaluator's columns() without making the evaluator (a module's may need libraries merge does not:
// iclab_modules has their columns torch-free); empty: make_point_evaluator's.
using ColumnsFactory = std::function<std::vector<std::string>(const Experiment&)>;
MergeResult merge_results(const std::vector<std::string>& dirs, const ColumnsFactory& columns = {});

// "3, 7, 10-15" (compact ranges) for messages.
std::string describe_points(const std::vector<std::size_t>& points, std::size_t max_items = 20);

}  // namespace iclab
