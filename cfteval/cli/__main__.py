"""`python -m cfteval.cli`: the same command line as the `cfteval` script."""

from cfteval.cli import run

if __name__ == "__main__":
    run()
