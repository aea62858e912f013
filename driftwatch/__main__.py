"""`python -m driftwatch` runs the command-line interface."""

from driftwatch.cli import main

if __name__ == "__main__":
    main()
