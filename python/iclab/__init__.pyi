# Type stub of the iclab package, so that editors complete the arguments. Units and conventions are in
# the docstrings of python/iclab/__init__.py.
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

__version__: str

# A number, a sequence or array of numbers, or the CLI's list text ("0.5,1,2", "lin:A:B:N", "log:A:B:N").
Values = Union[float, int, str, Sequence[float], npt.ArrayLike]
# A spec text ("power:0.9", "linear;spike:0"), a d x d matrix or length-d diagonal, a (label, array)
# pair, a Covariance, or a list of these.
CovarianceLike = Union[str, "Covariance", npt.NDArray[np.float64], Tuple[str, npt.ArrayLike], Sequence[Any]]
# A pandas DataFrame when pandas is importable, else a Table; both carry .attrs["meta"].
Result = Any
PathLike = Union[str, os.PathLike]

class Table(Dict[str, np.ndarray]):
    attrs: Dict[str, Any]
    @property
    def meta(self) -> Dict[str, Any]: ...

class Covariance:
    @property
    def spec(self) -> str: ...
    @property
    def d(self) -> int: ...
    @property
    def matrix(self) -> npt.NDArray[np.float64]: ...
    @property
    def eigenvalues(self) -> npt.NDArray[np.float64]: ...
    @property
    def is_diagonal(self) -> bool: ...

def conventions() -> Dict[str, Any]: ...
def covariance(spec: Union[str, npt.ArrayLike], d: Optional[int] = ..., label: Optional[str] = ...) -> Covariance: ...
@overload
def e_icl(alpha: float, tau: float, kappa: float, rho: float, lam: float = ...) -> float: ...
@overload
def e_icl(alpha: npt.ArrayLike, tau: npt.ArrayLike, kappa: npt.ArrayLike, rho: npt.ArrayLike,
          lam: npt.ArrayLike = ...) -> npt.NDArray[np.float64]: ...
@overload
def e_idg(alpha: float, tau: float, kappa: float, rho: float, lam: float = ...) -> float: ...
@overload
def e_idg(alpha: npt.ArrayLike, tau: npt.ArrayLike, kappa: npt.ArrayLike, rho: npt.ArrayLike,
          lam: npt.ArrayLike = ...) -> npt.NDArray[np.float64]: ...
def theory(alpha: Optional[Values] = ..., tau: Optional[Values] = ..., kappa: Optional[Values] = ...,
           rho: Optional[Values] = ..., lam: Values = ..., *, d: Optional[int] = ...,
           ctrain: Optional[CovarianceLike] = ..., ctest: Optional[CovarianceLike] = ...,
           alpha_test: Optional[Values] = ..., zip: bool = ...) -> Result: ...
def alpha_min(what: str = ..., tau: Optional[Values] = ..., kappa: Optional[Values] = ...,
              rho: Optional[Values] = ..., lam: Values = ..., *, zip: bool = ...) -> Result: ...
def align(d: Optional[int] = ..., ctrain: Optional[CovarianceLike] = ..., ctest: Optional[CovarianceLike] = ...,
          alpha: Optional[Values] = ..., tau: Optional[Values] = ..., kappa: Optional[Values] = ...,
          rho: Optional[Values] = ..., *, alpha_test: Optional[Values] = ...) -> Result: ...
def heatmap(ptest: Optional[Values] = ..., alpha: Optional[Values] = ..., tau: Optional[Values] = ...,
            rho: Optional[Values] = ..., dp: Optional[Values] = ..., kappa: Optional[Values] = ..., *,
            d: int = ...) -> Result: ...
def kspectrum(d: Optional[int] = ..., ctrain: Optional[CovarianceLike] = ..., alpha: Optional[Values] = ...,
              tau: Optional[Values] = ..., kappa: Optional[Values] = ..., rho: Optional[Values] = ..., *,
              zip: bool = ...) -> Result: ...
def simulate(d: Union[int, str, Sequence[int], None] = ..., alpha: Optional[Values] = ...,
             tau: Optional[Values] = ..., kappa: Optional[Values] = ..., rho: Optional[Values] = ...,
             lam: Values = ..., *, repeats: int = ..., seed: int = ..., task_norm: str = ...,
             assignment: str = ..., solver: str = ..., ctrain: Optional[CovarianceLike] = ...,
             ctest: Optional[CovarianceLike] = ..., error_form: str = ..., with_theory: bool = ...,
             zip: bool = ..., progress: bool = ..., out: Optional[PathLike] = ...) -> Result: ...
def sample_contexts(d: int, alpha: float, tau: float, kappa: float, rho: float, *, seed: int = ...,
                    repetition: int = ..., task_norm: str = ..., assignment: str = ...,
                    ctrain: Optional[CovarianceLike] = ...) -> Dict[str, Any]: ...
@overload
def fit(x_query: npt.ArrayLike, z: npt.ArrayLike, y_query: npt.ArrayLike, lam: float = ..., *,
        solver: str = ...) -> Dict[str, Any]: ...
@overload
def fit(x_query: npt.ArrayLike, z: npt.ArrayLike, y_query: npt.ArrayLike, lam: Sequence[float], *,
        solver: str = ...) -> List[Dict[str, Any]]: ...
def test_error(gamma: npt.ArrayLike, ell: int, rho: float, *, test: str = ...,
               tasks: Optional[npt.ArrayLike] = ..., ctest: Optional[CovarianceLike] = ...,
               task_norm: str = ..., error_form: str = ...) -> float: ...
def run(path: PathLike, out: Optional[PathLike] = ..., *, shard: str = ..., progress: bool = ...) -> Result: ...
def presets() -> List[Tuple[str, str]]: ...
def reproduce(name: str, quick: bool = ..., *, out: Optional[PathLike] = ..., plot_only: bool = ...,
              reference_data: Optional[PathLike] = ..., progress: bool = ...) -> Dict[str, Any]: ...
