"""Experiment statistics: the numbers Mida's result API does not give. NumPy and SciPy, no Dagster.

`frequentist`, `bayesian`, `revenue` and `multiple` compute over whole arrays, one comparison per element;
`comparison` (the scoring the scorecards share), `scorecard` and `segments` use them to score every variant of every
experiment at once, and `verdicts` turns the figures into calls. The defaults below are the ones every statistic
shares; importing this package imports nothing else.
"""

# The confidence threshold, in percent, when neither the result nor the project's configuration gives one.
DEFAULT_THRESHOLD = 95.0
# The two-arm sample the confidence sequences are tightest at, unless MIDA_SEQUENTIAL_TUNING says otherwise.
DEFAULT_TUNING = 5000.0


def alpha_of(threshold_percent):
    """The significance level a confidence threshold in percent stands for (95 -> 0.05), element by element."""
    return 1 - threshold_percent / 100
