//! Where an address is, from a MaxMind-format city database (GeoLite2-City or DB-IP City: `country.iso_code`,
//! `city.names.en`, `location.latitude`/`longitude`), loaded whole into memory at start-up.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use maxminddb::Reader;
use qrlogin_shared::requester::Location;
use serde::Deserialize;

/// The city database, or none (`QRL_GEOIP_CITY_DB` unset): then nothing is ever located.
pub struct GeoDb(Option<Reader<Vec<u8>>>);

/// A located address: what the phone is shown, and the coordinates the distance is measured from.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub location: Location,
    /// Latitude and longitude, degrees, where the database has them.
    pub coordinates: Option<(f64, f64)>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot read the city database {path} (QRL_GEOIP_CITY_DB)")]
pub struct GeoDbError {
    path: String,
    source: maxminddb::MaxMindDbError,
}

impl GeoDb {
    pub const fn none() -> Self {
        Self(None)
    }

    /// Reads the database at `path`; a file that is missing or not a MaxMind database is an error (start-up).
    pub fn open(path: &Path) -> Result<Self, GeoDbError> {
        let reader =
            Reader::open_readfile(path).map_err(|source| GeoDbError { path: path.display().to_string(), source })?;
        Ok(Self(Some(reader)))
    }

    /// The address's country (and city, coordinates); `None` without a database, for addresses it does not know
    /// and for records without a country.
    pub fn locate(&self, ip: IpAddr) -> Option<Place> {
        let reader = self.0.as_ref()?;
        let record: CityRecord = match reader.lookup(ip.to_canonical()).and_then(|found| found.decode()) {
            Ok(record) => record?,
            Err(e) => {
                tracing::debug!(error = %e, "city database lookup failed");
                return None;
            }
        };
        let country = record.country.and_then(|c| c.iso_code).filter(|c| !c.is_empty())?;
        let city = record.city.and_then(|mut c| c.names.remove("en"));
        let coordinates = record.location.and_then(|l| Some((l.latitude?, l.longitude?)));
        Some(Place { location: Location { country, city }, coordinates })
    }
}

/// The few fields we read of a GeoLite2-City / DB-IP City record; everything else is skipped.
#[derive(Deserialize)]
struct CityRecord {
    country: Option<Country>,
    city: Option<City>,
    location: Option<Coordinates>,
}

#[derive(Deserialize)]
struct Country {
    iso_code: Option<String>,
}

#[derive(Deserialize)]
struct City {
    #[serde(default)]
    names: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Coordinates {
    latitude: Option<f64>,
    longitude: Option<f64>,
}
