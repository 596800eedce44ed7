"""`python -m cfteval.cli`: the same command line as the `cfteval` script."""

from cfteval.cli import main

if __name__ == "__main__":
    main()
