"""The churn model package: replace `model.load` with your own loading code."""
