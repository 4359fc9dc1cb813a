"""Reading: a package's CSV files as Arrow columns of text, with the line of every row."""
