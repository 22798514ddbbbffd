"""The module's numbers are the library's: every result is compared with the `iclab` program's CSV (which
prints the shortest text that reads back to the same double), to the last bit."""
import math

import numpy as np
import pytest

import iclab
from conftest import cli, cli_rows


def column(result, name):
    values = result[name]
    return list(values.to_numpy() if hasattr(values, "to_numpy") else values)


def assert_same_table(result, header, rows):
    """Same columns in the same order, same number of rows, every cell the same double / integer / text."""
    assert list(result.keys() if isinstance(result, dict) else result.columns) == header
    for c, name in enumerate(header):
        values = column(result, name)
        assert len(values) == len(rows), name
        for r, (mine, text) in enumerate(zip(values, (row[c] for row in rows))):
            if isinstance(mine, str) or mine is None:
                assert (mine or "") == text, (name, r)
            elif isinstance(mine, (int, np.integer)):
                assert int(mine) == int(text), (name, r)
            else:
                expected = float(text) if text != "" else math.nan
                if math.isnan(expected):
                    assert math.isnan(mine), (name, r, mine)
                else:
                    # Bit for bit: the CLI's text reads back to exactly the double it computed.
                    assert float(mine) == expected, (name, r, repr(mine), text)


def test_isotropic_theory_equals_cli_ridgeless_and_ridge():
    header, rows = cli_rows("theory", "--alpha", "1,10", "--tau", "0.5,2", "--kappa", "0.5,inf", "--rho", "0.01",
                            "--lambda", "0,1e-3,0.1")
    result = iclab.theory(alpha=[1, 10], tau=np.array([0.5, 2.0]), kappa=[0.5, np.inf], rho=0.01, lam=[0, 1e-3, 0.1])
    assert_same_table(result, header, rows)


def test_cli_list_texts_are_accepted():
    header, rows = cli_rows("theory", "--alpha", "log:0.1:100:7", "--tau", "lin:0.2:2:4", "--kappa", "inf",
                            "--rho", "0.01")
    assert_same_table(iclab.theory(alpha="log:0.1:100:7", tau="lin:0.2:2:4", kappa="inf", rho=0.01), header, rows)


def test_scalar_functions_equal_the_table():
    result = iclab.theory(alpha=10, tau=[0.5, 2], kappa=0.5, rho=0.01, lam=[0, 0.1])
    for alpha, tau, kappa, rho, lam, icl, idg in zip(*(column(result, c) for c in
                                                       ("alpha", "tau", "kappa", "rho", "lambda", "e_icl", "e_idg"))):
        value = iclab.e_icl(alpha, tau, kappa, rho, lam)
        assert isinstance(value, float)
        assert value == icl
        assert iclab.e_idg(alpha, tau, kappa, rho, lam) == idg
    # Arrays broadcast NumPy's way.
    values = iclab.e_icl(10, np.array([[0.5], [2.0]]), 0.5, 0.01, np.array([0.0, 0.1]))
    assert values.shape == (2, 2)
    assert list(values.ravel()) == column(result, "e_icl")


def test_alpha_min_equals_cli_with_nan_where_monotone():
    header, rows = cli_rows("theory", "--alpha-min", "icl", "--tau", "0.5,20", "--kappa", "0.2,1.5", "--rho", "0.1,2")
    result = iclab.alpha_min("icl", tau=[0.5, 20], kappa=[0.2, 1.5], rho=[0.1, 2])
    assert_same_table(result, header, rows)
    # Both kinds of rows occur: a minimum, and none (monotone: empty in the CSV, NaN here).
    assert "" in [row[-1] for row in rows] and any(row[-1] for row in rows)


def test_alignment_theory_equals_cli():
    header, rows = cli_rows("theory", "--d", "60", "--ctrain", "power:0.9;linear", "--ctest", "iso;spike:0;rot:3:power:1",
                            "--alpha", "2", "--alpha-test", "2,4", "--tau", "0.5,4", "--kappa", "1,inf", "--rho", "0.01")
    result = iclab.theory(d=60, ctrain="power:0.9;linear", ctest=["iso", "spike:0", "rot:3:power:1"], alpha=2,
                          alpha_test=[2, 4], tau=[0.5, 4], kappa=[1, np.inf], rho=0.01)
    assert_same_table(result, header, rows)


def test_covariance_arrays_give_the_spec_numbers():
    c = iclab.covariance("power:0.9", d=40)
    by_spec = iclab.theory(d=40, ctrain="power:0.9", ctest="spike:0", alpha=2, tau=[0.5, 4], kappa=1, rho=0.01)
    # The same diagonal as a matrix and as a vector: recognised as diagonal, no decomposition, same bits.
    for arg in (c.matrix, np.diag(c.matrix), ("mine", c.matrix)):
        by_array = iclab.theory(ctrain=arg, ctest="spike:0", d=40, alpha=2, tau=[0.5, 4], kappa=1, rho=0.01)
        assert list(by_array["e_icl"]) == list(by_spec["e_icl"])
    assert list(by_array["ctrain"]) == ["mine", "mine"]
    # A non-diagonal matrix is decomposed again (LAPACK, not the rotation's known eigenvectors): equal to
    # rounding. 1e-10 relative is far above the 1e-13 such a d = 40 decomposition changes, far below any
    # modelling difference.
    rot = iclab.covariance("rot:7:power:0.9", d=40)
    a = iclab.theory(d=40, ctrain="power:0.9", ctest="rot:7:power:0.9", alpha=2, tau=4, kappa=1, rho=0.01)
    b = iclab.theory(ctrain=iclab.covariance("power:0.9", d=40), ctest=rot.matrix, alpha=2, tau=4, kappa=1, rho=0.01)
    assert np.allclose(b["e_icl"], a["e_icl"], rtol=1e-10, atol=0)
    assert int(b["d"][0]) == 40  # d inferred from the covariances


def test_align_heatmap_kspectrum_equal_cli():
    header, rows = cli_rows("align", "--d", "50", "--ctrain", "power:0.9", "--ctest", "lowrank:0.2;power:0.4;iso",
                            "--alpha", "2", "--tau", "4", "--kappa", "0.2,1", "--rho", "0.01")
    assert_same_table(iclab.align(50, "power:0.9", "lowrank:0.2;power:0.4;iso", alpha=2, tau=4, kappa=[0.2, 1],
                                  rho=0.01), header, rows)
    header, rows = cli_rows("heatmap", "--d", "30", "--ptest", "0.9", "--alpha", "1", "--tau", "4", "--rho", "0.01",
                            "--dp", "lin:-0.5:2:6", "--kappa", "0.1,1,2")
    assert_same_table(iclab.heatmap(ptest=0.9, alpha=1, tau=4, rho=0.01, dp="lin:-0.5:2:6", kappa=[0.1, 1, 2], d=30),
                      header, rows)
    header, rows = cli_rows("kspectrum", "--d", "20", "--ctrain", "power:0.9", "--alpha", "2", "--tau", "0.5,4",
                            "--kappa", "1", "--rho", "0.01")
    assert_same_table(iclab.kspectrum(20, "power:0.9", alpha=2, tau=[0.5, 4], kappa=1, rho=0.01), header, rows)


def test_simulate_equals_cli_with_metadata(tmp_path):
    args = ["simulate", "--d", "8,10", "--alpha", "2", "--tau", "2", "--kappa", "0.5,inf", "--rho", "0.01",
            "--lambda", "1e-6,0.1", "--repeats", "3", "--seed", "5", "--with-theory", "--task-norm", "sphere",
            "--assignment", "balanced", "--solver", "direct"]
    header, rows = cli_rows(*args)
    result = iclab.simulate(d=[8, 10], alpha=2, tau=2, kappa=[0.5, np.inf], rho=0.01, lam=[1e-6, 0.1], repeats=3,
                            seed=5, with_theory=True, task_norm="sphere", assignment="balanced", solver="direct")
    assert_same_table(result, header, rows)
    meta = result.attrs["meta"]
    assert meta["seed"] == 5 and meta["version"] == iclab.__version__
    assert "conventions" in meta and len(meta["points"]) == 8
    assert all(report["solver"] == "direct" for point in meta["points"] for report in point["solver"])
    # out= writes the CLI's CSV, byte for byte.
    out = tmp_path / "sim.csv"
    again = iclab.simulate(d=[8, 10], alpha=2, tau=2, kappa=[0.5, np.inf], rho=0.01, lam=[1e-6, 0.1], repeats=3,
                           seed=5, with_theory=True, task_norm="sphere", assignment="balanced", solver="direct",
                           out=out)
    assert_same_table(again, header, rows)
    cli(*args, "--out", str(tmp_path / "cli.csv"))
    assert out.read_bytes() == (tmp_path / "cli.csv").read_bytes()
    assert (tmp_path / "sim.csv.meta.json").exists()


def test_simulate_with_covariances_equals_cli():
    header, rows = cli_rows("simulate", "--d", "12", "--ctrain", "power:0.9", "--ctest", "iso;spike:0", "--alpha", "2",
                            "--tau", "4", "--kappa", "1", "--rho", "0.01", "--lambda", "1e-6", "--repeats", "2",
                            "--seed", "3", "--with-theory", "--solver", "dual", "--error-form", "asymptotic")
    result = iclab.simulate(12, 2, 4, 1, 0.01, 1e-6, ctrain="power:0.9", ctest="iso;spike:0", repeats=2, seed=3,
                            with_theory=True, solver="dual", error_form="asymptotic")
    assert_same_table(result, header, rows)


def test_building_blocks_reproduce_simulate():
    """sample_contexts -> fit -> test_error gives simulate's per-repetition errors exactly."""
    d, alpha, tau, kappa, rho, lam, seed = 10, 2.0, 3.0, 0.5, 0.01, 1e-4, 11
    sim = iclab.simulate(d, alpha, tau, kappa, rho, lam, repeats=2, seed=seed, solver="direct")
    icl, idg = [], []
    for repetition in range(2):
        draw = iclab.sample_contexts(d, alpha, tau, kappa, rho, seed=seed, repetition=repetition)
        assert draw["x_query"].shape == (draw["n"], d) and draw["z"].shape == (draw["n"], d + 1)
        assert draw["tasks"].shape == (draw["k"], d) and draw["k"] == int(kappa * d)
        f = iclab.fit(draw["x_query"], draw["z"], draw["y_query"], lam, solver="direct")
        assert f["gamma"].shape == (d, d + 1) and f["report"]["solver"] == "direct"
        icl.append(iclab.test_error(f["gamma"], draw["ell"], rho))
        idg.append(iclab.test_error(f["gamma"], draw["ell"], rho, test="idg", tasks=draw["tasks"]))
    # The library's mean: a left-to-right sum divided by the count (mean_and_population_std).
    assert column(sim, "icl_mean")[0] == (0.0 + icl[0] + icl[1]) / 2
    assert column(sim, "idg_mean")[0] == (0.0 + idg[0] + idg[1]) / 2
    # A lambda path: one dict per value, each the same fit as alone.
    draw = iclab.sample_contexts(d, alpha, tau, kappa, rho, seed=seed)
    path = iclab.fit(draw["x_query"], draw["z"], draw["y_query"], [lam, 0.5], solver="direct")
    assert [p["lambda"] for p in path] == [lam, 0.5]
    # C-ordered inputs are accepted too (copied to the solver's layout): same Gamma.
    again = iclab.fit(np.ascontiguousarray(draw["x_query"]), np.ascontiguousarray(draw["z"]), draw["y_query"], 0.5,
                      solver="direct")
    assert np.array_equal(again["gamma"], path[1]["gamma"])


def test_run_equals_cli_run(tmp_path):
    toml = tmp_path / "exp.toml"
    toml.write_text('name = "py"\ncompute = ["theory", "simulation"]\nseed = 4\nrepeats = 2\n'
                    '[parameters]\nd = 8\nalpha = 2\nrho = 0.01\nlambda = [1e-6, 0.1]\n'
                    '[grid]\ntau = [0.5, 2]\nkappa = [1, "inf"]\n')
    result = iclab.run(toml, out=tmp_path / "py")
    cli("run", str(toml), "--out", str(tmp_path / "cli"), "--quiet")
    assert (tmp_path / "py" / "results.csv").read_bytes() == (tmp_path / "cli" / "results.csv").read_bytes()
    header, rows = cli_rows("merge", str(tmp_path / "cli"))
    assert_same_table(result, header, rows)
    assert result.attrs["meta"]["summary"]["points_total"] == 4
    assert result.attrs["meta"]["experiment"]["seed"] == 4


def test_run_of_yang_repr_gap_equals_cli_run(tmp_path):
    # Yang et al.'s repr_gap is torch-free module work: the module evaluates it as the plain `iclab` does.
    toml = tmp_path / "gap.toml"
    toml.write_text('name = "g"\ncompute = ["repr_gap"]\nseed = 3\n[parameters]\nd = 4\nm = 4\nK = 12\n'
                    'tau = 0.1\ndictionaries = 2\nprompts = 3\n[grid]\nN = [3, 5]\n')
    result = iclab.run(toml, out=tmp_path / "py")
    cli("run", str(toml), "--out", str(tmp_path / "cli"), "--quiet")
    assert (tmp_path / "py" / "results.csv").read_bytes() == (tmp_path / "cli" / "results.csv").read_bytes()
    assert len(result["gap"]) == 2


def test_reproduce_quick_draws_the_figure(tmp_path):
    names = [name for name, _ in iclab.presets()]
    assert "lu2024-fig1" in names and "letey2025-fig2" in names
    out = iclab.reproduce("letey2025-fig2", quick=True, out=tmp_path / "fig2")
    assert out["figure"].endswith("letey2025-fig2.png")
    import os
    assert os.path.getsize(out["figure"]) > 1000
    assert out["results"], out
