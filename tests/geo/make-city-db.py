#!/usr/bin/env python3
"""Writes city-test.mmdb, the small MaxMind-format city database of the tests (GeoLite2-City schema), with
documentation-range addresses only. Regenerate with `pip install mmdb-writer && python3 tests/geo/make-city-db.py`;
the output is committed, so running the tests needs neither Python nor the package.

    192.0.2.0/24        DE Berlin     52.52, 13.405
    198.51.100.0/25     DE Hamburg    53.55, 9.993     (255 km from Berlin: near)
    198.51.100.128/25   not in the database
    203.0.113.0/24      US New York   40.713, -74.006
    2001:db8:1::/48     DE Freiburg   47.999, 7.842    (640 km from Berlin: far, same country)
    2001:db8:2::/48     FR, no city, no coordinates
"""

import pathlib

from mmdb_writer import MMDBWriter
from netaddr import IPSet

PLACES = [
    ("192.0.2.0/24", "DE", "Berlin", (52.52, 13.405)),
    ("198.51.100.0/25", "DE", "Hamburg", (53.55, 9.993)),
    ("203.0.113.0/24", "US", "New York", (40.713, -74.006)),
    ("2001:db8:1::/48", "DE", "Freiburg", (47.999, 7.842)),
    ("2001:db8:2::/48", "FR", None, None),
]


def record(country, city, coordinates):
    rec = {"country": {"iso_code": country, "names": {"en": country}}}
    if city:
        rec["city"] = {"geoname_id": 1, "names": {"en": city, "de": city}}
    if coordinates:
        rec["location"] = {"latitude": coordinates[0], "longitude": coordinates[1], "accuracy_radius": 50}
    return rec


def main():
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City",
                        languages=["en"], description={"en": "qrlogin test cities (documentation ranges)"})
    for network, country, city, coordinates in PLACES:
        writer.insert_network(IPSet([network]), record(country, city, coordinates))
    out = pathlib.Path(__file__).with_name("city-test.mmdb")
    writer.to_db_file(str(out))
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
