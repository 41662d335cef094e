//! Session tickets under Node's 48-byte ticket keys (`ticketKeys`,
//! `getTicketKeys`, `setTicketKeys`): servers that share the keys resume each
//! other's sessions. Tickets are sealed with AES-256-GCM under a key made from
//! the last 32 bytes; the first 16 name the key, as in OpenSSL's layout.

use std::sync::Mutex;

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use rustls::server::ProducesTickets;

use crate::error::TlsError;

pub const TICKET_KEYS_LEN: usize = 48;
const NAME_LEN: usize = 16;

pub struct TicketKeys {
    keys: Mutex<[u8; TICKET_KEYS_LEN]>,
    lifetime_secs: u32,
}

impl std::fmt::Debug for TicketKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TicketKeys")
    }
}

impl TicketKeys {
    /// Fresh random keys, as a Node server starts with.
    pub fn random(lifetime_secs: u32) -> Result<Self, TlsError> {
        let mut keys = [0u8; TICKET_KEYS_LEN];
        SystemRandom::new().fill(&mut keys).map_err(|_| {
            TlsError::new("ERR_SSL_INTERNAL_ERROR", "no randomness for ticket keys")
        })?;
        Ok(TicketKeys {
            keys: Mutex::new(keys),
            lifetime_secs,
        })
    }

    pub fn get(&self) -> [u8; TICKET_KEYS_LEN] {
        self.keys.lock().map(|k| *k).unwrap_or([0; TICKET_KEYS_LEN])
    }

    pub fn set(&self, new_keys: &[u8]) -> Result<(), TlsError> {
        let new_keys: [u8; TICKET_KEYS_LEN] = new_keys.try_into().map_err(|_| {
            TlsError::new(
                "ERR_INVALID_ARG_VALUE",
                format!("Session ticket keys must be a {TICKET_KEYS_LEN}-byte buffer"),
            )
        })?;
        if let Ok(mut keys) = self.keys.lock() {
            *keys = new_keys;
        }
        Ok(())
    }

    fn sealing_key(keys: &[u8; TICKET_KEYS_LEN]) -> Option<LessSafeKey> {
        let secret = keys.get(NAME_LEN..)?;
        UnboundKey::new(&aead::AES_256_GCM, secret)
            .ok()
            .map(LessSafeKey::new)
    }
}

impl ProducesTickets for TicketKeys {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        self.lifetime_secs
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        let keys = self.get();
        let key = Self::sealing_key(&keys)?;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).ok()?;
        let name = keys.get(..NAME_LEN)?;
        let mut sealed = plain.to_vec();
        // The key name is authenticated along with the contents.
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(name),
            &mut sealed,
        )
        .ok()?;
        let mut ticket = Vec::with_capacity(NAME_LEN + NONCE_LEN + sealed.len());
        ticket.extend_from_slice(name);
        ticket.extend_from_slice(&nonce);
        ticket.extend_from_slice(&sealed);
        Some(ticket)
    }

    fn decrypt(&self, ticket: &[u8]) -> Option<Vec<u8>> {
        let keys = self.get();
        let name = keys.get(..NAME_LEN)?;
        let rest = ticket.strip_prefix(name)?;
        let (nonce, sealed) = rest.split_at_checked(NONCE_LEN)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let key = Self::sealing_key(&keys)?;
        let mut buf = sealed.to_vec();
        let plain = key.open_in_place(nonce, Aad::from(name), &mut buf).ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_open_only_under_the_same_keys() {
        let a = TicketKeys::random(300).unwrap();
        let b = TicketKeys::random(300).unwrap();
        let ticket = a.encrypt(b"session state").unwrap();
        assert_eq!(a.decrypt(&ticket).unwrap(), b"session state");
        assert!(b.decrypt(&ticket).is_none());
        b.set(&a.get()).unwrap();
        assert_eq!(b.decrypt(&ticket).unwrap(), b"session state");
        let mut tampered = ticket.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(a.decrypt(&tampered).is_none());
        assert!(a.decrypt(&ticket[..20]).is_none());
        assert_eq!(a.set(&[0; 47]).unwrap_err().code, "ERR_INVALID_ARG_VALUE");
    }
}
