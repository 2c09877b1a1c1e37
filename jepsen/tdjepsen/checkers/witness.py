"""The anomaly part of every checker result. Witness lists are cut so a
badly broken history still yields a readable results.json; the counts
keep the true totals."""

MAX_WITNESSES = 8


def report(anomalies):
    """{"anomaly_types", "anomaly_counts", "anomalies"} from {name: [witness]};
    names with no witness are dropped."""
    found = {name: witnesses for name, witnesses in anomalies.items() if witnesses}
    return {
        "anomaly_types": sorted(found),
        "anomaly_counts": {name: len(witnesses) for name, witnesses in found.items()},
        "anomalies": {name: witnesses[:MAX_WITNESSES] for name, witnesses in found.items()},
    }
