"""Tolerances for comparing semnet with lavaan, stated once.

lavaan's optimizer (nlminb, rel.tol 1e-10) and semnet's Newton steps both converge far
beyond these; the remaining differences come from where each stops and from the
15 significant digits of the JSON fixtures.  Standard errors depend on the information
matrix at the estimate, so they get a looser bound; fit indices are smooth functions of
the converged discrepancy.
"""

#: relative tolerance for parameter estimates (and standardized estimates)
EST_RTOL = 1e-4
#: relative tolerance for standard errors (also of standardized and defined parameters)
SE_RTOL = 1e-3
#: relative tolerance for fit indices, chi-square, log-likelihoods
FIT_RTOL = 1e-4
#: absolute floor for quantities that are zero in theory (e.g. RMSEA of a saturated model)
ATOL = 1e-6
#: bootstrap quantities that semnet and lavaan/boot compute from the same resamples
#: (draws, jackknife-based and basic/normal intervals), in bootstrap standard errors:
#: only the two optimizers' stopping points differ (at most ~1e-4 SE, multi-group)
BOOT_SE_TOL = 1e-3
#: relative tolerance for the BCa acceleration from two jackknifes of the same data
#: (semnet's refits and lavaan's or numpy's; observed at most ~1e-3)
ACCEL_RTOL = 5e-3
#: interval arithmetic on identical draws (percentile quantiles): rounding only
ARITH_RTOL = 1e-10
#: the same observed information by central differences of an analytic gradient, computed
#: twice (LMS): the gradient's rounding (BLAS's summation order differs with its thread
#: count) is amplified by the inverse of the step, about 1e5; relative to the matrix's
#: largest element
NUMERIC_HESSIAN_RTOL = 1e-8
#: Monte Carlo checks: allowed deviation, in Monte Carlo standard errors.  Against
#: lavaan's bootstrap from R's draws: a bootstrap p-value p of B1 and B2 draws differs by
#: sqrt(p (1 - p) (1/B1 + 1/B2)) (two binomial shares; p = 0.09, B = 1000: 0.0128); a
#: bootstrap SE relatively by about sqrt(2 / (2B)) (each has ~1/sqrt(2B) for near-normal
#: draws; B = 1000: 0.032); the Bollen-Stine data rotated with the same implied moments
#: need no Monte Carlo tolerance (ARITH_RTOL), with semnet's own estimates EST_RTOL
MC_SIGMAS = 4.0

#: FIML fit measures computed from the EM estimates of the saturated model (SRMR, the
#: robust CFI/TLI/RMSEA from the FIML-corrected statistics), absolute: lavaan stops that
#: EM at em.h1.tol = 1e-5, and its own values move by up to 5e-6 when it is tightened to
#: 1e-10 (tests/reference/fuzz m002_hs: robust RMSEA 0.0064543 -> 0.0064494, a square
#: root near 0 of a difference of nearly equal statistics; m068_sim: SRMR of a saturated
#: model 1.3e-6 -> 8e-10); checked at FIT_RTOL relative or this absolute
FIML_H1_ATOL = 1e-5

#: polychoric, polyserial and (pairwise-ML) Pearson correlations against lavCor():
#: lavaan's nlminb stops within ~1e-7 of the maximum of the likelihood (semnet's Newton
#: iteration within 1e-10); the elements of Gamma inherit that error (largest seen
#: 9e-8, HS mixed items with pairwise deletion), and are compared at EST_RTOL relative
#: with this floor for the elements near 0
POLYCHORIC_ATOL = 1e-6

# alignment optimization (tests/analyses/test_alignment.py)
#: analytic against central-difference gradients of the loss (relative)
GRAD_RTOL = 1e-6
#: delta-method Jacobian against re-optimizing after a small change of the configural
#: estimates (relative to the size of the change in the reported values)
JACOBIAN_RTOL = 1e-2
#: exactly invariant population moments: aligned values equal the population values
#: up to the optimizer's tolerance
EXACT_ATOL = 1e-4
#: recovery of planted factor means (correlation of aligned with true means)
MIN_MEAN_CORRELATION = 0.98

#: weakly identified models (a method factor on every item, ULMC): estimates agree with
#: lavaan's within this fraction of their standard error (the optimizers stop at
#: different points of a flat likelihood; the chi-squares agree to FIT_RTOL), and
#: lavaan's fits with hundreds of parameters (30 groups), which it stops a little early
EST_SE_FRACTION = 1e-3

#: semopy's estimates against semnet's: semopy's L-BFGS-B stops loosely, within about
#: 1e-3 relative of the optimum (PolDem's y4~~y8 was 1.04e-3 off lavaan's in one run,
#: depending on the BLAS threads); semnet itself is checked against lavaan at EST_RTOL
SEMOPY_RTOL = 2e-3
#: alignment against sirt::invariance.alignment: sirt stops its L-BFGS-B search (numerical
#: gradient, eps continuation) at about 5e-5 from the optimum semnet's analytic-gradient
#: search reaches, so aligned means, SDs and loadings agree to 1e-4 absolute
SIRT_ATOL = 1e-4
#: sirt's delta-method standard errors use a numerical Hessian (step 1e-4); observed
#: agreement with semnet's analytic ones 6e-5 relative
SIRT_SE_RTOL = 1e-3

# path diagrams (tests/report/test_diagram.py), in SVG pixels
#: geometry is computed in floating point and written with one decimal: a line may
#: touch a node's outline within this distance
DIAGRAM_PX = 0.5
#: an arrow's tip lies on an ellipse: (x/rx)² + (y/ry)² within this of 1 (the tip is
#: found by bisection to 1e-12; the slack covers rounding to one decimal in the SVG)
DIAGRAM_BOUNDARY_RTOL = 0.02
#: largest share of the canvas's width or height left empty around the content
DIAGRAM_MAX_MARGIN = 0.15

#: DWLS/ULS/WLS fits of ordinal items against lavaan: the polychoric statistics agree to
#: ~1e-7 (POLYCHORIC_ATOL), so estimates and standard errors can differ by a few 1e-6 in
#: absolute terms; thresholds near zero make a purely relative bound meaningless there
ORDINAL_ATOL = 1e-5

#: the seed studies' large FIML fits (150-300 free parameters, tests/studies/): lavaan's
#: nlminb stops on the relative change of the objective (rel.tol 1e-10), which leaves
#: its estimates up to ~2e-5 from the maximum of the likelihood (semnet's log-likelihood
#: is the higher one by 3e-8 to 5e-8 in every fixture); absolute tolerance of estimates
LARGE_FIML_EST_ATOL = 5e-5
#: the bootstrap's draws refitted as a stack (semnet.estimation.ml_batch) against the
#: same draws refitted one by one: the same steps from the same start in arithmetic that
#: differs by rounding (observed at most ~2e-12 relative, multi-group with weights);
#: the absolute floor is this times the draw's largest value
STACK_RTOL = 1e-11
