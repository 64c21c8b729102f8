//! The life of token signing keys (contract §8): which key signs, which keys are published, and
//! what a rotation schedules.
//!
//! A routine rotation *pre-publishes* the new key: it appears in the JWKS at once but signs only
//! from `activates_at`, so every ScaiKey process and every relying party that caches the JWKS
//! knows it before the first token it signs. The keys it replaces stop signing then and stay
//! published until every token they may have signed has expired. An emergency rotation (a key
//! is thought compromised) activates the new key and withdraws the old ones at once: tokens the
//! old keys signed stop verifying.

use chrono::{DateTime, Duration, Utc};

use crate::validation::{FieldError, ValidationErrors};

pub use crate::application::IdTokenAlg as SigningAlg;

/// Extra time a replaced key stays published beyond the longest token lifetime, for clock skew
/// between ScaiKey, relying parties and the JWKS caches in between.
pub const RETIREMENT_MARGIN_SECONDS: i64 = 300;

/// When a key signs and until when it is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySchedule {
    /// When the key was made (orders keys that activate at the same instant).
    pub created_at: DateTime<Utc>,
    /// From when it may sign.
    pub activates_at: DateTime<Utc>,
    /// When it leaves the JWKS and stops verifying (`None`: not scheduled).
    pub retires_at: Option<DateTime<Utc>>,
}

impl KeySchedule {
    /// A key that signs from now on and is not scheduled to retire.
    #[must_use]
    pub const fn immediate(now: DateTime<Utc>) -> KeySchedule {
        KeySchedule { created_at: now, activates_at: now, retires_at: None }
    }

    /// `true` while the key is in the JWKS and tokens it signed verify.
    #[must_use]
    pub fn published(&self, now: DateTime<Utc>) -> bool {
        self.retires_at.is_none_or(|r| r > now)
    }

    /// `true` if the key may sign now: activated, published, not scheduled to retire.
    #[must_use]
    pub fn may_sign(&self, now: DateTime<Utc>) -> bool {
        self.activates_at <= now && self.retires_at.is_none() && self.published(now)
    }
}

/// What a key does at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Signs new tokens of its algorithm.
    Signing,
    /// Published ahead of its activation.
    Pending,
    /// Published so that tokens it signed still verify; signs nothing.
    VerifyOnly,
    /// Withdrawn.
    Retired,
}

impl KeyState {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyState::Signing => "signing",
            KeyState::Pending => "pending",
            KeyState::VerifyOnly => "verify_only",
            KeyState::Retired => "retired",
        }
    }
}

/// The index of the key that signs among `keys` (all of one algorithm) at `now`: the latest
/// activated one that may sign. When several processes made a first key at once, all of them
/// pick the same one. If none may sign (every key is pending or retiring, which a rotation never
/// leaves behind), the earliest published key signs rather than none.
#[must_use]
pub fn signer(keys: &[KeySchedule], now: DateTime<Utc>) -> Option<usize> {
    let latest = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| k.may_sign(now))
        .max_by_key(|(_, k)| (k.activates_at, k.created_at))
        .map(|(i, _)| i);
    latest.or_else(|| {
        keys.iter().enumerate().filter(|(_, k)| k.published(now)).min_by_key(|(_, k)| k.activates_at).map(|(i, _)| i)
    })
}

/// The state of each of `keys` (all of one algorithm) at `now`, in their order.
#[must_use]
pub fn states(keys: &[KeySchedule], now: DateTime<Utc>) -> Vec<KeyState> {
    let signing = signer(keys, now);
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            if !k.published(now) {
                KeyState::Retired
            } else if Some(i) == signing {
                KeyState::Signing
            } else if k.activates_at > now && k.retires_at.is_none() {
                KeyState::Pending
            } else {
                KeyState::VerifyOnly
            }
        })
        .collect()
}

/// How a rotation is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// How long a new key is published before it signs: at least the interval at which ScaiKey
    /// processes reload keys, ideally the JWKS cache lifetime.
    pub prepublish: Duration,
    /// The longest lifetime of any token ScaiKey signs.
    pub longest_token: Duration,
}

/// The schedule a rotation gives the new key, and when the keys it replaces retire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// The new key's schedule.
    pub new_key: KeySchedule,
    /// When the replaced keys leave the JWKS.
    pub previous_retire_at: DateTime<Utc>,
}

/// Plans a rotation at `now`. `emergency` activates the new key and withdraws the old ones at
/// once; otherwise the new key is pre-published and the old ones outlive their last tokens.
#[must_use]
pub fn plan_rotation(policy: &RotationPolicy, now: DateTime<Utc>, emergency: bool) -> Rotation {
    if emergency {
        return Rotation { new_key: KeySchedule::immediate(now), previous_retire_at: now };
    }
    let activates_at = now + policy.prepublish.max(Duration::zero());
    Rotation {
        new_key: KeySchedule { created_at: now, activates_at, retires_at: None },
        previous_retire_at: activates_at + policy.longest_token + Duration::seconds(RETIREMENT_MARGIN_SECONDS),
    }
}

/// The retirement a replaced key gets from a rotation: the earlier of what it had and `at`
/// (a rotation never extends the life of a key already retiring).
#[must_use]
pub fn retire(current: Option<DateTime<Utc>>, at: DateTime<Utc>) -> DateTime<Utc> {
    current.map_or(at, |c| c.min(at))
}

/// What a rotation replaces and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationRequest {
    /// The algorithms whose keys are replaced (never empty).
    pub algorithms: Vec<SigningAlg>,
    /// Activate the new keys and withdraw the old ones at once (a suspected compromise): tokens
    /// the old keys signed stop verifying.
    pub emergency: bool,
}

/// What an administrator asks a rotation for, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationInput {
    /// JOSE names of the algorithms to rotate; `None` rotates every algorithm.
    pub algorithms: Option<Vec<String>>,
    /// Withdraw the old keys at once.
    pub emergency: bool,
}

impl RotationInput {
    /// Checks the algorithm names (each known, at least one, none twice).
    ///
    /// # Errors
    /// Each unknown or repeated name, or an empty list.
    pub fn validate(self) -> Result<RotationRequest, ValidationErrors> {
        let Some(names) = self.algorithms else {
            return Ok(RotationRequest { algorithms: SigningAlg::ALL.to_vec(), emergency: self.emergency });
        };
        let mut errors = ValidationErrors::default();
        let mut algorithms = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let at = ["algorithms", &i.to_string()];
            match SigningAlg::parse(name) {
                Some(a) if algorithms.contains(&a) => {
                    errors.push(FieldError::at(&at, "duplicate", format!("{name} is listed twice")));
                }
                Some(a) => algorithms.push(a),
                None => errors.push(FieldError::at(&at, "enum", "Input should be 'ES256' or 'RS256'")),
            }
        }
        if names.is_empty() {
            errors.push(FieldError::new("algorithms", "length", "name at least one algorithm, or leave it out"));
        }
        errors.into_result()?;
        Ok(RotationRequest { algorithms, emergency: self.emergency })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn key(created: i64, activates: i64, retires: Option<i64>) -> KeySchedule {
        KeySchedule { created_at: t(created), activates_at: t(activates), retires_at: retires.map(t) }
    }

    const POLICY: RotationPolicy =
        RotationPolicy { prepublish: Duration::seconds(300), longest_token: Duration::hours(24) };

    #[test]
    fn rotation_input_names_each_bad_algorithm() {
        let all = RotationInput::default().validate().unwrap();
        assert_eq!(all.algorithms, SigningAlg::ALL);
        let one = RotationInput { algorithms: Some(vec!["RS256".into()]), emergency: true }.validate().unwrap();
        assert_eq!((one.algorithms, one.emergency), (vec![SigningAlg::Rs256], true));
        let bad =
            RotationInput { algorithms: Some(vec!["HS256".into(), "ES256".into(), "ES256".into()]), emergency: false }
                .validate()
                .unwrap_err();
        let fields: Vec<_> = bad.errors().iter().map(|e| (e.loc.join("."), e.kind)).collect();
        assert_eq!(fields, [("algorithms.0".to_string(), "enum"), ("algorithms.2".to_string(), "duplicate")]);
        assert!(RotationInput { algorithms: Some(vec![]), emergency: false }.validate().is_err());
    }

    #[test]
    fn the_latest_activated_key_signs_and_pending_keys_wait() {
        let first = key(0, 0, None);
        let r = plan_rotation(&POLICY, t(100), false);
        assert_eq!(r.new_key.activates_at, t(400));
        assert_eq!(r.previous_retire_at, t(400 + 86_400 + RETIREMENT_MARGIN_SECONDS));
        let old = KeySchedule { retires_at: Some(retire(first.retires_at, r.previous_retire_at)), ..first };
        let keys = [old, r.new_key];
        // Before activation the old key still signs (it is retiring, but nothing else may).
        assert_eq!(signer(&keys, t(399)), Some(0));
        assert_eq!(states(&keys, t(399)), [KeyState::Signing, KeyState::Pending]);
        // From activation on the new key signs; the old one only verifies, until it retires.
        assert_eq!(signer(&keys, t(400)), Some(1));
        assert_eq!(states(&keys, t(400)), [KeyState::VerifyOnly, KeyState::Signing]);
        let gone = r.previous_retire_at;
        assert!(keys[0].published(gone - Duration::seconds(1)));
        assert_eq!(states(&keys, gone), [KeyState::Retired, KeyState::Signing]);
    }

    #[test]
    fn an_emergency_rotation_withdraws_the_old_keys_at_once() {
        let r = plan_rotation(&POLICY, t(50), true);
        assert_eq!(r.new_key, KeySchedule::immediate(t(50)));
        let old = KeySchedule { retires_at: Some(retire(None, r.previous_retire_at)), ..key(0, 0, None) };
        assert!(!old.published(t(50)));
        assert_eq!(states(&[old, r.new_key], t(50)), [KeyState::Retired, KeyState::Signing]);
    }

    #[test]
    fn concurrent_first_keys_agree_and_rotations_never_extend_a_retirement() {
        // Two processes made a key in the same second: both pick the later-created one.
        let keys = [key(0, 0, None), key(1, 0, None)];
        assert_eq!(signer(&keys, t(5)), Some(1));
        assert_eq!(states(&keys, t(5)), [KeyState::VerifyOnly, KeyState::Signing]);
        assert_eq!(retire(Some(t(10)), t(20)), t(10));
        assert_eq!(retire(Some(t(30)), t(20)), t(20));
        // Only pending or retiring keys left: the earliest published one still signs.
        assert_eq!(signer(&[key(0, 10, None), key(0, 0, Some(100))], t(5)), Some(1));
        assert_eq!(signer(&[key(0, 0, Some(1))], t(5)), None);
        assert_eq!(signer(&[], t(5)), None);
    }
}
