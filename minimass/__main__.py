from minimass_cli import main  # the command line, beside the package

main()
