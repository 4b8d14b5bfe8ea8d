//! The scan's verdict on a login: where the browser is (city database), what it runs (its `User-Agent`,
//! parsed), whether it logged in as this user before (device history), compared with the phone's own address.
//! [`assess`] is the policy (pure); [`RiskJudge::judge`] gathers the facts for it. README "Risk" documents both.

mod geo;
mod user_agent;

use std::net::IpAddr;
use std::time::Duration;

use qrlogin_shared::requester::{RequesterDetails, sanitize_user_agent};
use qrlogin_shared::session::{Requester, Risk, RiskLevel, Signal};
use qrlogin_shared::store::LoginContext;
use qrlogin_shared::{SessionStore, StoreError, UserId};

pub use geo::{GeoDb, GeoDbError, Place};

/// What the verdict is made of.
pub struct Facts<'a> {
    pub requester_ip: Option<IpAddr>,
    pub phone_ip: Option<IpAddr>,
    pub requester_place: Option<&'a Place>,
    pub phone_place: Option<&'a Place>,
    pub known_device: bool,
    pub browser_known: bool,
}

/// The policy: `high` when the browser is far from the phone; `medium` when it is a new device, not located or
/// no known browser, unless it is in the phone's own network; `low` otherwise.
pub fn assess(facts: &Facts<'_>, far_km: f64) -> Risk {
    let mut signals = Vec::new();
    if let (Some(a), Some(b)) = (facts.requester_ip, facts.phone_ip)
        && same_network(a, b)
    {
        signals.push(Signal::SameNetwork);
    }
    match (facts.requester_place, facts.phone_place) {
        (None, _) => signals.push(Signal::NoLocation),
        (Some(_), None) => {}
        (Some(r), Some(p)) if far_apart(r, p, far_km) => signals.push(Signal::FarFromPhone),
        (Some(_), Some(_)) => {}
    }
    if facts.phone_place.is_none() {
        signals.push(Signal::PhoneNotLocated);
    }
    if !facts.known_device {
        signals.push(Signal::NewDevice);
    }
    if !facts.browser_known {
        signals.push(Signal::UnknownBrowser);
    }
    let doubtful = [Signal::NewDevice, Signal::NoLocation, Signal::UnknownBrowser].iter().any(|s| signals.contains(s));
    let level = if signals.contains(&Signal::FarFromPhone) {
        RiskLevel::High
    } else if doubtful && !signals.contains(&Signal::SameNetwork) {
        RiskLevel::Medium
    } else {
        RiskLevel::Low
    };
    Risk { level, signals }
}

/// Same IPv4 /24 or same IPv6 /48 (IPv4-mapped IPv6 counts as IPv4).
pub fn same_network(a: IpAddr, b: IpAddr) -> bool {
    match (a.to_canonical(), b.to_canonical()) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets()[..3] == b.octets()[..3],
        (IpAddr::V6(a), IpAddr::V6(b)) => a.segments()[..3] == b.segments()[..3],
        _ => false,
    }
}

/// Another country, or (where both have coordinates) more than `far_km` apart.
fn far_apart(a: &Place, b: &Place, far_km: f64) -> bool {
    a.location.country != b.location.country
        || matches!((a.coordinates, b.coordinates), (Some(x), Some(y)) if distance_km(x, y) > far_km)
}

/// Great-circle distance (haversine) between two (latitude, longitude) points in degrees.
pub fn distance_km((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0088;
    let (dlat, dlon) = ((lat2 - lat1).to_radians(), (lon2 - lon1).to_radians());
    let h = (dlat / 2.0).sin().powi(2) + lat1.to_radians().cos() * lat2.to_radians().cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The requester as the phone is shown it, and the verdict.
pub struct Judged {
    pub requester: RequesterDetails,
    pub risk: Risk,
}

/// What judging needs, built once at start-up.
pub struct RiskJudge {
    pub geo: GeoDb,
    pub far_km: f64,
    /// How long a login makes a browser known (`QRL_DEVICE_MEMORY_DAYS`).
    pub device_memory: Duration,
}

impl RiskJudge {
    /// How long a login keeps a device known.
    pub fn device_memory(&self) -> Duration {
        self.device_memory
    }

    /// The verdict on session `context` scanned by `user` from `phone_ip`. The session read may have looked the
    /// device up in the user's history already (a single Redis); else that is one Redis step of its own (the
    /// user's slot).
    pub async fn judge(
        &self,
        store: &SessionStore,
        user: &UserId,
        phone_ip: &str,
        context: &LoginContext,
    ) -> Result<Judged, StoreError> {
        let known_device = match (context.known_device, &context.device) {
            (Some(known), _) => known,
            (None, Some(device)) => store.knows_device(user, device, self.device_memory).await?,
            (None, None) => false,
        };
        Ok(self.judge_known(&context.requester, phone_ip, known_device))
    }

    fn judge_known(&self, stored: &Requester, phone_ip: &str, known_device: bool) -> Judged {
        let requester_ip = stored.ip.parse().ok();
        let phone_ip = phone_ip.parse().ok();
        let requester_place = requester_ip.and_then(|ip| self.geo.locate(ip));
        let phone_place = phone_ip.and_then(|ip| self.geo.locate(ip));
        // Sanitised again: sessions stored before the gateway cleaned it, or by another writer, stay harmless.
        let user_agent = sanitize_user_agent(&stored.user_agent);
        let software = user_agent::parse(&user_agent);
        let facts = Facts {
            requester_ip,
            phone_ip,
            requester_place: requester_place.as_ref(),
            phone_place: phone_place.as_ref(),
            known_device,
            browser_known: software.browser_known,
        };
        let risk = assess(&facts, self.far_km);
        let requester = RequesterDetails {
            ip: stored.ip.clone(),
            user_agent,
            created_at: stored.created_at.clone(),
            browser: software.browser,
            os: software.os,
            location: requester_place.map(|p| p.location),
            known_device,
        };
        Judged { requester, risk }
    }
}

#[cfg(test)]
mod tests;
