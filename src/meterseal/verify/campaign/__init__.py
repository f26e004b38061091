"""Randomised campaigns: scenarios drawn from (seed, index), run in batches on Dask, judged by
the oracle, tabulated to Parquet with a summary; every failing scenario kept as a TOML file."""
