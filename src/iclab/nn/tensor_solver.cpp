#include "iclab/nn/tensor_solver.hpp"

#include <omp.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "iclab/error.hpp"
#include "iclab/model/auto_solver.hpp"
#include "iclab/model/cg_solver.hpp"
#include "iclab/model/dual_solver.hpp"
#include "iclab/model/solver_kernels.hpp"
#include "iclab/nn/ensemble.hpp"
#include "iclab/nn/torch_support.hpp"

namespace iclab::nn {
namespace {

using ridge_detail::format_bytes;
using ridge_detail::largest_first;
using ridge_detail::seconds_since;
using torch::Tensor;

constexpr double kEps = std::numeric_limits<double>::epsilon();
// Elements of one (d+1) x chunk temporary of the matrix-free passes (256 MiB): the passes go over the
// contexts in chunks so that their workspace stays bounded whatever n.
constexpr double kChunkElements = 32.0 * 1024 * 1024;
// Elements of one block of design rows when the p x p Gram is built (256 MiB).
constexpr double kDesignBlockElements = 32.0 * 1024 * 1024;

double p_of(long d) { return static_cast<double>(d) * static_cast<double>(d + 1); }

long chunk_columns(long n, long d) {
  return std::clamp<long>(static_cast<long>(kChunkElements / static_cast<double>(d + 1)), 1, std::max<long>(n, 1));
}

long design_block_rows(long n, long d) {
  return std::clamp<long>(static_cast<long>(kDesignBlockElements / p_of(d)), 1, std::max<long>(n, 1));
}

// Bytes of each method's device footprint beyond the features (8 n (2d + 2) bytes).
double pass_bytes(long n, long d) {  // one matrix-free pass: three (d+1) x chunk temporaries
  return 8.0 * 3.0 * static_cast<double>(d + 1) * static_cast<double>(chunk_columns(n, d));
}
double primal_cg_bytes(long n, long d) {
  const double dd = static_cast<double>(d + 1);
  return pass_bytes(n, d) + 8.0 * (12.0 * p_of(d) + 6.0 * dd * dd);
}
double dual_cg_bytes(long n, long d) {
  return pass_bytes(n, d) + 8.0 * (10.0 * static_cast<double>(n) + 4.0 * p_of(d));
}
double cg_bytes(long n, long d) { return n > d * (d + 1) ? primal_cg_bytes(n, d) : dual_cg_bytes(n, d); }
double dense_bytes(long n, long d, bool eigen) {  // the system, its factor and a shifted copy (or eigenvectors)
  const bool dual = n < d * (d + 1);
  const double m = dual ? static_cast<double>(n) : p_of(d);
  const double build = dual ? 8.0 * m * m : 8.0 * 2.0 * static_cast<double>(design_block_rows(n, d)) * p_of(d);
  return 8.0 * (eigen ? 4.0 : 3.0) * m * m + build + pass_bytes(n, d);
}
double feature_bytes(long n, long d) { return 8.0 * static_cast<double>(n) * (2.0 * static_cast<double>(d) + 2.0); }

// The features on the device, stored transposed (contiguous rows of length n): Eigen is column-major,
// so the n x d matrix X read row-major is X^T. All passes are over these rows.
struct DeviceBatch {
  Tensor xt;  // d x n
  Tensor zt;  // (d+1) x n
  Tensor y;   // n
  long n = 0, d = 0, chunk = 1;
};

DeviceBatch upload(const FeatureBatch& batch, const torch::Device& device) {
  DeviceBatch b;
  b.n = batch.size();
  b.d = batch.dim();
  b.chunk = chunk_columns(b.n, b.d);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  // The host tensors alias the batch (never written); on the CPU they are used in place.
  b.xt = torch::from_blob(const_cast<double*>(batch.x_query.data()), {b.d, b.n}, f64).to(device);
  b.zt = torch::from_blob(const_cast<double*>(batch.z.data()), {b.d + 1, b.n}, f64).to(device);
  b.y = torch::from_blob(const_cast<double*>(batch.y_query.data()), {b.n}, f64).to(device);
  return b;
}

Matrix to_host(const Tensor& gamma) {  // d x (d+1) tensor -> Eigen
  const Tensor host = gamma.to(torch::kCPU).contiguous();
  const long rows = host.size(0), cols = host.size(1);
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  return Eigen::Map<const RowMajor>(host.data_ptr<double>(), rows, cols);
}

double frobenius(const Tensor& t) { return t.norm().item<double>(); }
double scalar_product(const Tensor& a, const Tensor& b) { return (a * b).sum().item<double>(); }

// r = H vec(Gamma): r_mu = x_mu^T Gamma z_mu.
Tensor predictions(const DeviceBatch& b, const Tensor& gamma) {
  Tensor out = torch::empty({b.n}, b.y.options());
  for (long s = 0; s < b.n; s += b.chunk) {
    const long m = std::min(b.chunk, b.n - s);
    const Tensor t = gamma.t().mm(b.xt.narrow(1, s, m));  // (d+1) x m
    out.narrow(0, s, m).copy_((t * b.zt.narrow(1, s, m)).sum(0));
  }
  return out;
}

// H^T w = X^T diag(w) Z (d x (d+1)).
Tensor weighted_cross(const DeviceBatch& b, const Tensor& w) {
  Tensor out = torch::zeros({b.d, b.d + 1}, b.y.options());
  for (long s = 0; s < b.n; s += b.chunk) {
    const long m = std::min(b.chunk, b.n - s);
    out.addmm_(b.xt.narrow(1, s, m), (b.zt.narrow(1, s, m) * w.narrow(0, s, m)).t());
  }
  return out;
}

// H^T H vec(Gamma), fused per chunk.
Tensor gram_apply(const DeviceBatch& b, const Tensor& gamma) {
  Tensor out = torch::zeros({b.d, b.d + 1}, b.y.options());
  for (long s = 0; s < b.n; s += b.chunk) {
    const long m = std::min(b.chunk, b.n - s);
    const Tensor zc = b.zt.narrow(1, s, m);
    const Tensor r = (gamma.t().mm(b.xt.narrow(1, s, m)) * zc).sum(0);
    out.addmm_(b.xt.narrow(1, s, m), (zc * r).t());
  }
  return out;
}

// ||H^T H g + shift g - rhs|| / ||rhs|| on the device.
double normal_residual(const DeviceBatch& b, const Tensor& gamma, double shift, const Tensor& rhs) {
  const double scale = frobenius(rhs);
  const double diff = frobenius(gram_apply(b, gamma) + shift * gamma - rhs);
  return scale > 0 ? diff / scale : diff;
}

// The core's preconditioned CG (model/solver_kernels.hpp, preconditioned_cg) on tensors: it stops on the
// true residual and tells a stall from slow progress. Tensors share storage on copy, hence clone().
struct TensorCgOps {
  using Vector = Tensor;
  static double inner(const Tensor& a, const Tensor& b) { return scalar_product(a, b); }
  static double norm(const Tensor& a) { return frobenius(a); }
  static void set_zero(Tensor& x) { x = torch::zeros_like(x); }  // new storage: the caller's start is kept
  static Tensor copy(const Tensor& a) { return a.clone(); }
  static void add_scaled(Tensor& x, double step, const Tensor& d) { x.add_(d, step); }
  static void subtract_scaled(Tensor& r, double step, const Tensor& q) { r.sub_(q, step); }
};
using CgOutcome = ridge_detail::BasicCgOutcome<Tensor>;

template <class Apply, class Precondition>
CgOutcome conjugate_gradient(const Apply& apply, const Precondition& precondition, const Tensor& rhs, Tensor start,
                             const ridge_detail::CgSettings& settings) {
  return ridge_detail::preconditioned_cg<TensorCgOps>(apply, precondition, rhs, std::move(start), settings);
}

// (Sx (x) Sz + shift I)^-1 through the eigendecompositions of Sx = X^T X / n and Sz = Z^T Z (as the
// core's cg solver).
class KroneckerPreconditioner {
 public:
  explicit KroneckerPreconditioner(const DeviceBatch& b) {
    const Tensor sx = b.xt.mm(b.xt.t()) / static_cast<double>(b.n);
    const Tensor sz = b.zt.mm(b.zt.t());
    std::tie(dx_, ux_) = torch::linalg_eigh(sx);
    std::tie(dz_, uz_) = torch::linalg_eigh(sz);
    dx_.clamp_min_(0.0);  // Gram matrices are PSD: negative eigenvalues are rounding
    dz_.clamp_min_(0.0);
  }
  double smallest() const { return dx_.min().item<double>() * dz_.min().item<double>(); }
  void set_shift(double shift) {
    denominators_ = torch::outer(dx_, dz_) + shift;
    const double floor = kEps * std::max(denominators_.max().item<double>(), 1e-300);
    denominators_.clamp_min_(floor);
  }
  Tensor operator()(const Tensor& r) const {
    const Tensor rotated = ux_.t().mm(r).mm(uz_);
    return ux_.mm(rotated / denominators_).mm(uz_.t());
  }

 private:
  Tensor ux_, uz_, dx_, dz_, denominators_;
};

// The dense system: the p x p Gram H^T H (n >= p) or the n x n kernel (X X^T) o (Z Z^T) (n < p).
Tensor dense_system(const DeviceBatch& b, bool dual) {
  if (dual) {
    Tensor k = b.xt.t().mm(b.xt);
    k.mul_(b.zt.t().mm(b.zt));
    return k;
  }
  const long p = b.d * (b.d + 1);
  Tensor g = torch::zeros({p, p}, b.y.options());
  const long block = design_block_rows(b.n, b.d);
  for (long s = 0; s < b.n; s += block) {
    const long m = std::min(block, b.n - s);
    // rows vec(H_mu) = x_mu (x) z_mu in the row-major order vec[a (d+1) + c] = x_a z_c
    const Tensor rows = (b.xt.narrow(1, s, m).t().unsqueeze(2) * b.zt.narrow(1, s, m).t().unsqueeze(1)).reshape({m, p});
    g.addmm_(rows.t(), rows);
  }
  return g;
}

// Solutions of (V diag(e) V^T + shift I) x = rhs for every shift (the core's spectral_solve): negative
// eigenvalues are rounding; at shift 0 the modes below m eps max(e) are dropped (minimum-norm solution).
Tensor spectral_solve(const Tensor& vectors, const Tensor& eigenvalues, const Tensor& rhs,
                      const std::vector<double>& shifts) {
  const long m = eigenvalues.size(0);
  const Tensor projected = vectors.t().mv(rhs);
  const Tensor e = eigenvalues.clamp_min(0.0);
  const double cutoff = static_cast<double>(m) * kEps * (m > 0 ? e.max().item<double>() : 0.0);
  std::vector<Tensor> columns;
  for (double shift : shifts) {
    Tensor scaled = projected / (e + shift);
    if (shift == 0.0) scaled = torch::where(e <= cutoff, torch::zeros_like(scaled), scaled);
    columns.push_back(scaled);
  }
  return vectors.mm(torch::stack(columns, 1));
}

long lambdas_for_eigen() { return static_cast<long>(DualRidgeSolver::kEigenPathMinLambdas); }

enum class Method { direct, dual_dense, cg };

// One fit_path call: the features on the device and what the methods share.
class Fit {
 public:
  Fit(const TensorSolverOptions& options, const torch::Device& device, const FeatureBatch& batch,
      std::span<const double> lambdas, double budget)
      : options_(options),
        device_(device),
        lambdas_(lambdas),
        budget_(budget),
        b_(upload(batch, device)),
        ridge_scale_(static_cast<double>(b_.n) / static_cast<double>(b_.d)),
        rhs_(weighted_cross(b_, b_.y)),
        fits_(lambdas.size()) {}

  std::vector<RidgeFit> run(const std::string& method) {
    const long n = b_.n, d = b_.d, p = d * (d + 1);
    std::string prefix;
    if (method == "auto") {
      prefix = "auto->";
      if (n <= p) {
        dual();
      } else {
        choose_primal();
      }
    } else if (method == "direct") {
      dense(n < p, "");
    } else if (method == "dual") {
      dual();
    } else {
      cg("", n > p);
    }
    for (RidgeFit& fit : fits_) fit.report.solver = prefix + fit.report.solver;
    return std::move(fits_);
  }

  // The largest device footprint (features included) a method of this fit asked for.
  double peak_bytes() const { return peak_bytes_; }

 private:
  bool fits(double bytes) const { return budget_ <= 0 || bytes <= 0.75 * budget_; }
  double with_features(double bytes) const { return bytes + feature_bytes(b_.n, b_.d); }
  void require(double bytes, const std::string& what) {
    peak_bytes_ = std::max(peak_bytes_, with_features(bytes));
    if (budget_ > 0 && with_features(bytes) > budget_)
      throw InvalidArgument("memory: the tensor solver (" + what + ") needs about " +
                            format_bytes(with_features(bytes)) + " on " + device_.str() +
                            " for n=" + std::to_string(b_.n) + ", d=" + std::to_string(b_.d) + " but only " +
                            format_bytes(budget_) + " is free there");
  }

  // The dual kernel when it fits (Cholesky, or one eigendecomposition for a long path), else dual CG.
  void dual() {
    const bool eigen = static_cast<long>(lambdas_.size()) >= lambdas_for_eigen();
    if (fits(with_features(dense_bytes(b_.n, b_.d, eigen)))) {
      dense(true, "dual");
    } else {
      cg("dual", false);
    }
  }

  // n > p: the core's rule, with the spectra from the Kronecker preconditioner.
  void choose_primal() {
    const long n = b_.n, d = b_.d, p = d * (d + 1);
    const double dense = dense_bytes(n, d, static_cast<long>(lambdas_.size()) >= lambdas_for_eigen());
    if (!fits(with_features(dense))) return cg("", true);
    if (p <= AutoRidgeSolver::kDirectMaxParameters) return this->dense(false, "direct");
    kronecker_.emplace(b_);
    const double smallest = kronecker_->smallest();
    const double nn = static_cast<double>(n), pp = static_cast<double>(p);
    const double count = static_cast<double>(std::max<std::size_t>(lambdas_.size(), 1));
    const double direct_flops = nn * pp * pp + pp * pp * pp / 3.0 * count;
    double iterations = 0.0;
    for (double lambda : lambdas_)
      iterations += AutoRidgeSolver::predicted_cg_iterations(smallest, n, d, lambda, options_.tolerance);
    const double cg_flops = AutoRidgeSolver::kCgFlopCost * iterations * 4.0 * nn * pp;
    if (cg_flops > direct_flops) return this->dense(false, "direct");
    cg("", true);
  }

  void finish(std::size_t j, const Tensor& gamma, const std::string& solver, const std::string& system,
              const std::string& factorization, long iterations, double residual, double seconds) {
    RidgeFit& fit = fits_[j];
    fit.lambda = lambdas_[j];
    fit.gamma = to_host(gamma.reshape({b_.d, b_.d + 1}));
    fit.report.solver = solver;
    fit.report.system = system;
    fit.report.factorization = factorization;
    fit.report.iterations = iterations;
    fit.report.relative_residual = residual;
    fit.report.seconds = seconds;
    fit.report.device = device_.str();
  }

  // Dense solve of the lambdas in `indices` (all when empty): Cholesky per lambda, an eigendecomposition
  // where Cholesky fails or for a long path. `name` is the solver's name in the report ("" : "direct").
  void dense(bool dual, const std::string& name, const std::vector<std::size_t>& indices = {}, long cg_iterations = 0,
             double cg_seconds = 0.0) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::size_t> todo = indices;
    if (todo.empty())
      for (std::size_t j = 0; j < lambdas_.size(); ++j) todo.push_back(j);
    const bool eigen_path = static_cast<long>(todo.size()) >= lambdas_for_eigen();
    require(dense_bytes(b_.n, b_.d, eigen_path), (name.empty() ? "direct" : name) + ", the dense system");
    const std::string solver = name.empty() ? "direct" : name;
    const std::string system = dual ? "dual" : "primal";
    Tensor a = dense_system(b_, dual);
    const Tensor rhs = dual ? b_.y : rhs_.reshape({-1});
    auto to_gamma = [&](const Tensor& solution) {
      return dual ? weighted_cross(b_, solution) : solution.reshape({b_.d, b_.d + 1});
    };
    auto report = [&](std::size_t k, std::size_t j, const Tensor& gamma, const std::string& factorization,
                      double seconds) {
      const double residual = normal_residual(b_, gamma, ridge_scale_ * lambdas_[j], rhs_);
      finish(j, gamma, solver, system, factorization, k == 0 ? cg_iterations : 0, residual,
             seconds + (k == 0 ? cg_seconds : 0.0));
    };
    std::optional<std::tuple<Tensor, Tensor>> spectrum;  // eigenvalues, eigenvectors
    auto eigen_solve = [&](const std::vector<std::size_t>& which) {
      if (!spectrum) spectrum = torch::linalg_eigh(a);
      std::vector<double> shifts;
      for (std::size_t j : which) shifts.push_back(ridge_scale_ * lambdas_[j]);
      return spectral_solve(std::get<1>(*spectrum), std::get<0>(*spectrum), rhs, shifts);
    };
    if (eigen_path) {
      const Tensor solutions = eigen_solve(todo);
      const double shared = seconds_since(start);
      for (std::size_t k = 0; k < todo.size(); ++k)
        report(k, todo[k], to_gamma(solutions.select(1, static_cast<long>(k))), "eigen", k == 0 ? shared : 0.0);
      return;
    }
    for (std::size_t k = 0; k < todo.size(); ++k) {
      const auto solve_start = std::chrono::steady_clock::now();
      const std::size_t j = todo[k];
      Tensor shifted = a.clone();
      shifted.diagonal().add_(ridge_scale_ * lambdas_[j]);
      auto [factor, info] = torch::linalg_cholesky_ex(shifted);
      shifted = Tensor();
      Tensor solution;
      std::string factorization = "cholesky";
      if (info.item<long>() == 0) {
        solution = torch::cholesky_solve(rhs.unsqueeze(1), factor).squeeze(1);
      } else {
        // Numerically semi-definite (a tiny ridge near tau = 1): the eigendecomposition, whose
        // spectral solve treats the flat directions as the core's does.
        factor = Tensor();
        solution = eigen_solve({j}).squeeze(1);
        factorization = "eigen";
      }
      report(k, j, to_gamma(solution), factorization, seconds_since(k == 0 ? start : solve_start));
    }
  }

  // Matrix-free PCG, largest lambda first with warm starts; a stall hands this and the remaining
  // lambdas to the dense solve. `name`: "" (cg) or "dual" (the dual solver's matrix-free method).
  void cg(const std::string& name, bool primal) {
    const auto start = std::chrono::steady_clock::now();
    require(primal ? primal_cg_bytes(b_.n, b_.d) : dual_cg_bytes(b_.n, b_.d), (name.empty() ? "cg" : name));
    const long n = b_.n, d = b_.d;
    const ridge_detail::CgSettings settings =
        ridge_detail::cg_settings(options_.tolerance, options_.max_iterations, n, d);
    if (primal && !kronecker_) kronecker_.emplace(b_);
    Tensor diagonal;
    if (!primal) diagonal = (b_.xt * b_.xt).sum(0) * (b_.zt * b_.zt).sum(0);  // diag(K)
    const double setup = seconds_since(start);
    const std::string solver = name.empty() ? "cg" : name;
    Tensor warm = primal ? torch::zeros({d, d + 1}, b_.y.options()) : torch::zeros({n}, b_.y.options());
    const std::vector<std::size_t> order = largest_first(lambdas_);
    for (std::size_t k = 0; k < order.size(); ++k) {
      const std::size_t j = order[k];
      const double shift = ridge_scale_ * lambdas_[j];
      const auto solve_start = std::chrono::steady_clock::now();
      CgOutcome out;
      if (primal) {
        kronecker_->set_shift(shift);
        const auto apply = [&](const Tensor& g) { return gram_apply(b_, g) + shift * g; };
        out = conjugate_gradient(apply, *kronecker_, rhs_, warm, settings);
      } else {
        Tensor jacobi = diagonal + shift;
        jacobi.clamp_min_(kEps * std::max(jacobi.max().item<double>(), 1e-300));
        const auto apply = [&](const Tensor& c) { return predictions(b_, weighted_cross(b_, c)) + shift * c; };
        const auto precondition = [&](const Tensor& r) { return r / jacobi; };
        out = conjugate_gradient(apply, precondition, b_.y, warm, settings);
      }
      const double seconds = seconds_since(solve_start) + (k == 0 ? setup : 0.0);
      if (!out.converged && options_.fallback_to_direct) {
        std::vector<std::size_t> rest(order.begin() + static_cast<long>(k), order.end());
        try {
          dense(b_.n < d * (d + 1), "", rest, out.iterations, seconds);
        } catch (const InvalidArgument& error) {
          ridge_detail::throw_fallback_refused(error.what(), out.relative_residual, out.iterations);
        }
        for (std::size_t j2 : rest) fits_[j2].report.solver = solver + "->direct";
        return;
      }
      const Tensor gamma = primal ? out.solution : weighted_cross(b_, out.solution);
      const double residual = primal ? out.relative_residual : normal_residual(b_, gamma, shift, rhs_);
      finish(j, gamma, solver, primal ? "primal" : "dual", primal ? "pcg-kronecker" : "pcg-jacobi", out.iterations,
             residual, seconds_since(solve_start) + (k == 0 ? setup : 0.0));
      warm = std::move(out.solution);
    }
  }

  const TensorSolverOptions& options_;
  torch::Device device_;
  std::span<const double> lambdas_;
  double budget_;
  DeviceBatch b_;
  double ridge_scale_;
  Tensor rhs_;  // H^T y, d x (d+1)
  std::optional<KroneckerPreconditioner> kronecker_;
  std::vector<RidgeFit> fits_;
  double peak_bytes_ = 0.0;
};

}  // namespace

TensorRidgeSolver::TensorRidgeSolver(TensorSolverOptions options) : options_(std::move(options)) {
  (void)make_ridge_solver(options_.method);  // the same names as the core's solvers (InvalidArgument)
  (void)parse_device(options_.device);
  if (!(options_.tolerance > 0.0)) throw InvalidArgument("tolerance: must be > 0");
}

TensorRidgeSolver::~TensorRidgeSolver() = default;

RidgeSolver::Scheduling TensorRidgeSolver::scheduling() const {
  if (options_.scheduling) return *options_.scheduling;
  return parse_device(options_.device).is_cpu() ? Scheduling::serial : Scheduling::overlapped;
}

double TensorRidgeSolver::device_bytes(long n, long d) const {
  const double data = feature_bytes(n, d);
  if (options_.method == "direct") return data + dense_bytes(n, d, false);
  return data + cg_bytes(n, d);  // auto, cg, dual: matrix-free CG when nothing larger fits
}

double TensorRidgeSolver::device_available_bytes() const {
  return static_cast<double>(EnsembleTrainer::available_bytes(options_.device)) +
         (parse_device(options_.device).is_cuda() ? cached_bytes_ : 0.0);
}

double TensorRidgeSolver::estimate_bytes(long n, long d) const {
  const bool cpu = parse_device(options_.device).is_cpu();
  const bool check = options_.host_check == TensorSolverOptions::HostCheck::always ||
                     (options_.host_check == TensorSolverOptions::HostCheck::automatic && !cpu);
  // On the CPU the features are used in place: the workspace is the device footprint without them.
  return (cpu ? device_bytes(n, d) - feature_bytes(n, d) : 0.0) +
         (check ? ridge_detail::pass_workspace_bytes(n, d) : 0.0);
}

void TensorRidgeSolver::require_device_memory(long n, long d) const {
  if (parse_device(options_.device).is_cpu()) return;  // host memory: estimate_bytes
  const double needed = device_bytes(n, d), available = device_available_bytes();
  if (available > 0 && needed > available)
    throw InvalidArgument("memory: the tensor solver (" + options_.method + ") needs about " + format_bytes(needed) +
                          " on " + options_.device + " for n=" + std::to_string(n) + ", d=" + std::to_string(d) +
                          " but only " + format_bytes(available) + " is free there");
}

std::vector<RidgeFit> TensorRidgeSolver::fit_path(const FeatureBatch& batch, std::span<const double> lambdas) const {
  const torch::Device device = parse_device(options_.device);
  require_device_memory(batch.size(), batch.dim());
  const TorchThreadScope threads(options_.threads > 0 ? options_.threads : device.is_cpu() ? omp_get_max_threads() : 1);
  const torch::NoGradGuard no_grad;
  const double budget = device.is_cpu() ? available_memory_bytes() : device_available_bytes();
  std::vector<RidgeFit> fits;
  double peak = 0.0;
  {
    Fit fit(options_, device, batch, lambdas, budget);
    fits = fit.run(options_.method);
    peak = fit.peak_bytes();
  }
  // Torch's caching allocator keeps what the fit freed: count it as this solver's for the next check.
  if (device.is_cuda()) cached_bytes_ = std::max(cached_bytes_, peak);
  const bool check = options_.host_check == TensorSolverOptions::HostCheck::always ||
                     (options_.host_check == TensorSolverOptions::HostCheck::automatic && !device.is_cpu());
  if (check)
    for (RidgeFit& fit : fits) fit.report.host_residual = normal_equation_residual(batch, fit.gamma, fit.lambda);
  return fits;
}

std::unique_ptr<RidgeSolver> make_ridge_solver_on(const std::string& method, const std::string& device) {
  if (device.empty()) return make_ridge_solver(method);
  TensorSolverOptions options;
  options.method = method;
  options.device = device;
  return std::make_unique<TensorRidgeSolver>(options);
}

}  // namespace iclab::nn
