//! The forwarded client-certificate header decoder (`security::forwarded::decode`): PEM,
//! PEM folded onto one line, URL-encoded PEM and base64 DER (with or without RFC 9440's
//! colons). Decoded certificates are re-encoded to check they are usable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mediate::security::forwarded::{decode, MAX_HEADER};

fuzz_target!(|data: &[u8]| {
    match decode(data) {
        Ok(certs) => {
            assert!(!certs.is_empty(), "decode returned no certificate without an error");
            assert!(data.len() <= MAX_HEADER);
            for c in &certs {
                let _ = c.to_der();
                let _ = c.subject_name().entries().count();
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
