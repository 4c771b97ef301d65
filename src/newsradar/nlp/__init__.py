"""Language analysis of news texts: `newsradar.nlp.analyze.analyze` is the entry point."""
