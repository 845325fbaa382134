from ci_carbon.cli import main

main()
