"""`python -m museum …` runs the same command group as the `museum` console script."""

from museum.cli import main

main(prog_name="museum")
