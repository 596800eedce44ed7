"""What people read and share: terminal tables, leaderboards, the paper's tables, comparisons,
plots and the HTML report. Everything here reads run folders through `cfteval.rundir`."""
