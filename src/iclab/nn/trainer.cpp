#include "iclab/nn/trainer.hpp"

#include "iclab/nn/ensemble.hpp"

namespace iclab::nn {
namespace {

EnsembleOptions engine_for(const TrainingOptions& training) {
  EnsembleOptions options;
  options.device = training.device;
  options.threads = training.threads;
  return options;
}

}  // namespace

struct TransformerTrainer::State {
  EnsembleTrainer ensemble;
};

TransformerTrainer::TransformerTrainer(PretrainingData data, ArchitectureOptions architecture, TrainingOptions training)
    : state_(std::make_unique<State>(State{EnsembleTrainer(
          {EnsembleMember{std::move(data), std::move(architecture), training}}, engine_for(training))})) {}

TransformerTrainer::TransformerTrainer(std::unique_ptr<State> state) : state_(std::move(state)) {}
TransformerTrainer::~TransformerTrainer() = default;
TransformerTrainer::TransformerTrainer(TransformerTrainer&&) noexcept = default;
TransformerTrainer& TransformerTrainer::operator=(TransformerTrainer&&) noexcept = default;

const PretrainingData& TransformerTrainer::data() const { return state_->ensemble.member(0).data; }
const ArchitectureOptions& TransformerTrainer::architecture() const { return state_->ensemble.member(0).architecture; }
const TrainingOptions& TransformerTrainer::training() const { return state_->ensemble.member(0).training; }
long TransformerTrainer::batch_size() const { return state_->ensemble.batch_size(0); }
long TransformerTrainer::steps_per_epoch() const { return state_->ensemble.steps_per_epoch(0); }
long TransformerTrainer::total_steps() const { return state_->ensemble.total_steps(0); }
long TransformerTrainer::steps_done() const { return state_->ensemble.steps_done(); }
long TransformerTrainer::num_parameters() const { return state_->ensemble.num_parameters(); }

void TransformerTrainer::set_schedule(long epochs, long steps) { state_->ensemble.set_schedule(0, epochs, steps); }

void TransformerTrainer::train(const std::function<void(const EpochLog&)>& on_epoch, long train_loss_every) {
  std::function<void(long, const EpochLog&)> log;
  if (on_epoch) log = [&on_epoch](long, const EpochLog& entry) { on_epoch(entry); };
  state_->ensemble.train(log, train_loss_every);
}

double TransformerTrainer::train_loss() { return state_->ensemble.train_losses().front(); }
double TransformerTrainer::icl_error(const std::string& ctest, long contexts) {
  return state_->ensemble.icl_errors(ctest, contexts).front();
}
double TransformerTrainer::idg_error(long contexts) { return state_->ensemble.idg_errors(contexts).front(); }
Vector TransformerTrainer::predict(const std::vector<Matrix>& tokens) { return state_->ensemble.predict(0, tokens); }

nlohmann::json TransformerTrainer::to_json() const { return state_->ensemble.member_json(0); }

void TransformerTrainer::save(const std::string& path) const { state_->ensemble.save(path); }

TransformerTrainer TransformerTrainer::load(const std::string& path, const std::string& device) {
  EnsembleTrainer ensemble = EnsembleTrainer::load(path, device);
  if (ensemble.size() != 1)
    throw InvalidArgument("checkpoint: '" + path + "' holds an ensemble of " + std::to_string(ensemble.size()) +
                          " models, not one");
  return TransformerTrainer(std::make_unique<State>(State{std::move(ensemble)}));
}

}  // namespace iclab::nn
