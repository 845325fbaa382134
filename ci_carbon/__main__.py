from ci_carbon.cli import console

console()
