"""Reads the Prometheus text format on stdin with the official Python client's parser and
prints every sample as one JSON line: {"families": [{"name", "type", "samples": [...]}]}.

The parser raises on anything that is not valid text format; the script then fails with its
message. Used by tests/metrics.rs.
"""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main() -> None:
    families = []
    for family in text_string_to_metric_families(sys.stdin.read()):
        families.append(
            {
                "name": family.name,
                "type": family.type,
                "samples": [
                    {"name": s.name, "labels": s.labels, "value": s.value}
                    for s in family.samples
                ],
            }
        )
    print(json.dumps({"families": families}))


if __name__ == "__main__":
    main()
