//! Synthetic clickstream: realistic-looking events for demos, tests and
//! benchmarks, deterministic for a given seed.
//!
//! Users walk a funnel in sessions — views, some cart additions, fewer
//! purchases, occasional removals — with logins, logouts and searches around
//! them, on mobile, desktop or tablet, with prices that fit each category.
//! `bad_fraction` mixes in each kind of input a validator must catch.

use weir_plugin::time::Timestamp;

use crate::pipeline::encode::{write_json_f64, write_json_string};

/// Categories with the price range of their products, in dollars.
const CATEGORIES: &[(&str, f64, f64)] = &[
    ("Electronics", 15.0, 2_500.0),
    ("Books", 5.0, 60.0),
    ("Clothing", 8.0, 300.0),
    ("Home & Kitchen", 6.0, 900.0),
    ("Beauty", 4.0, 150.0),
    ("Sports", 10.0, 1_200.0),
    ("Toys", 5.0, 200.0),
    ("Grocery", 1.0, 80.0),
];

/// Device shares, in percent: mobile leads e-commerce traffic.
const DEVICES: &[(&str, u64)] = &[("mobile", 58), ("desktop", 34), ("tablet", 8)];

/// Settings of a generated stream.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// Events to write.
    pub events: u64,
    /// Seed of the random stream.
    pub seed: u64,
    /// Share of events that are deliberately bad, 0.0 to 1.0.
    pub bad_fraction: f64,
    /// Time of the first event, microseconds since the epoch.
    pub start_micros: i64,
    /// Span of time the events cover, in seconds.
    pub window_seconds: i64,
    /// Distinct users.
    pub users: u64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            events: 10_000,
            seed: 42,
            bad_fraction: 0.0,
            // 2026-02-16T00:00:00Z, a Monday.
            start_micros: 1_771_200_000_000_000,
            window_seconds: 7 * 86_400,
            users: 5_000,
        }
    }
}

/// A small, fast, deterministic random stream (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The kinds of bad input mixed in by `bad_fraction`.
const BAD_KINDS: usize = 6;

/// Generate events as JSON lines, calling `emit` with each line (no newline).
pub fn generate(options: &GenerateOptions, mut emit: impl FnMut(&[u8])) {
    let mut rng = Rng(options.seed);
    let mut line = Vec::with_capacity(256);
    let step = (options.window_seconds.max(1) * 1_000_000) / options.events.max(1) as i64;
    let mut session: Option<Session> = None;
    for index in 0..options.events {
        let micros =
            options.start_micros + step * index as i64 + rng.below(step.max(1) as u64) as i64;
        let current = match &mut session {
            Some(s) if s.remaining > 0 => s,
            _ => session.insert(Session::new(&mut rng, options.users)),
        };
        current.remaining -= 1;
        let action = current.next_action(&mut rng);
        line.clear();
        let bad = rng.unit() < options.bad_fraction;
        let kind = if bad {
            Some(rng.below(BAD_KINDS as u64) as usize)
        } else {
            None
        };
        write_event(&mut line, current, action, micros, kind);
        emit(&line);
    }
}

struct Session {
    user: String,
    device: &'static str,
    category: usize,
    product: u64,
    price: f64,
    remaining: u32,
    carted: bool,
    step: u32,
}

impl Session {
    fn new(rng: &mut Rng, users: u64) -> Session {
        let user_number = rng.below(users);
        // About 1 user in 50 is a bot or a test account, for the filter.
        let user = match rng.below(100) {
            0 => format!("bot-{user_number:05}"),
            1 => format!("test_{user_number:05}"),
            _ => format!("u{user_number:06}"),
        };
        let roll = rng.below(100);
        let mut acc = 0;
        let device = DEVICES
            .iter()
            .find(|(_, share)| {
                acc += share;
                roll < acc
            })
            .map_or("mobile", |(name, _)| name);
        let mut session = Session {
            user,
            device,
            category: 0,
            product: 0,
            price: 0.0,
            remaining: 3 + rng.below(12) as u32,
            carted: false,
            step: 0,
        };
        session.pick_product(rng);
        session
    }

    fn pick_product(&mut self, rng: &mut Rng) {
        self.category = rng.below(CATEGORIES.len() as u64) as usize;
        let (_, low, high) = CATEGORIES[self.category];
        // Skewed towards the cheap end, as catalogues are.
        let share = rng.unit().powi(3);
        // Whole cents ending in 9, as shop prices do.
        let cents = ((low + (high - low) * share) * 10.0).round() as i64 * 10 - 1;
        self.price = cents.max(99) as f64 / 100.0;
        self.product = self.category as u64 * 10_000 + rng.below(2_000);
        self.carted = false;
    }

    fn next_action(&mut self, rng: &mut Rng) -> &'static str {
        self.step += 1;
        if self.step == 1 {
            return if rng.below(100) < 40 { "LOGIN" } else { "VIEW" };
        }
        if self.remaining == 0 && rng.below(100) < 30 {
            return "LOGOUT";
        }
        let roll = rng.below(100);
        if self.carted {
            return match roll {
                0..=34 => {
                    self.carted = false;
                    "PURCHASE"
                }
                35..=44 => {
                    self.carted = false;
                    "REMOVE_FROM_CART"
                }
                _ => {
                    self.pick_product(rng);
                    "VIEW"
                }
            };
        }
        match roll {
            0..=9 => "SEARCH",
            10..=29 => {
                self.carted = true;
                "ADD_TO_CART"
            }
            _ => {
                if rng.below(100) < 60 {
                    self.pick_product(rng);
                }
                "VIEW"
            }
        }
    }
}

fn field(out: &mut Vec<u8>, name: &str) {
    if out.len() > 1 {
        out.push(b',');
    }
    write_json_string(out, name);
    out.push(b':');
}

fn write_event(out: &mut Vec<u8>, s: &Session, action: &str, micros: i64, bad: Option<usize>) {
    let time = Timestamp::from_unix_micros(micros);
    let mut timestamp = format!(
        "{}T{:02}:{:02}:{:02}Z",
        time.date_string(),
        time.hour,
        time.minute,
        time.second
    );
    match bad {
        Some(0) => timestamp = timestamp.replace('-', "\u{2013}"),
        Some(1) => timestamp = format!("{}/{}/{}", time.day, time.month, time.year),
        _ => {}
    }
    out.push(b'{');
    field(out, "user_id");
    if bad == Some(5) {
        // Wrong type: a number where a string belongs.
        out.extend_from_slice(s.product.to_string().as_bytes());
    } else {
        write_json_string(out, &s.user);
    }
    field(out, "product_id");
    write_json_string(out, &format!("p{:05}", s.product));
    field(out, "product_category");
    write_json_string(out, CATEGORIES[s.category].0);
    field(out, "action");
    write_json_string(out, action);
    if bad != Some(2) {
        field(out, "price");
        if bad == Some(3) {
            write_json_string(out, &format!("{:.2}", s.price));
        } else {
            write_json_f64(out, s.price);
        }
    }
    field(out, "device");
    write_json_string(out, s.device);
    field(out, "timestamp");
    write_json_string(out, &timestamp);
    out.push(b'}');
    if bad == Some(4) {
        // Cut short: malformed JSON.
        out.truncate(out.len() - 7);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_well_formed() {
        let options = GenerateOptions {
            events: 2_000,
            ..Default::default()
        };
        let mut first = Vec::new();
        generate(&options, |line| first.push(line.to_vec()));
        let mut second = Vec::new();
        generate(&options, |line| second.push(line.to_vec()));
        assert_eq!(first, second);
        for line in &first {
            let value: serde_json::Value = serde_json::from_slice(line).unwrap();
            assert!(value["price"].as_f64().unwrap() > 0.0);
        }
        let actions: std::collections::HashSet<String> = first
            .iter()
            .map(|line| {
                serde_json::from_slice::<serde_json::Value>(line).unwrap()["action"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        for action in ["VIEW", "ADD_TO_CART", "PURCHASE", "LOGIN", "SEARCH"] {
            assert!(actions.contains(action), "{action} missing");
        }
    }

    #[test]
    fn bad_fraction_mixes_in_bad_events() {
        let options = GenerateOptions {
            events: 1_000,
            bad_fraction: 0.5,
            ..Default::default()
        };
        let mut malformed = 0;
        generate(&options, |line| {
            if serde_json::from_slice::<serde_json::Value>(line).is_err() {
                malformed += 1;
            }
        });
        assert!(malformed > 20 && malformed < 200, "{malformed}");
    }
}
