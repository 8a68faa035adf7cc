from textsiam.cli import main

main()
