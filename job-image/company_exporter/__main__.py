from company_exporter.entrypoint import main

main()
