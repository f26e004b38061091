"""A synthetic service area: customers and their loads, feeders and their outages, meter models,
staff visits with work orders and thieves; every meter's twin run on Dask into a fleet directory."""
