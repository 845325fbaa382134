"""``python -m ci_carbon.summary``: the summary command on its own, until the CLI lists it."""

from ci_carbon.summary.command import summary

if __name__ == "__main__":
    summary(prog_name="ci-carbon summary")
