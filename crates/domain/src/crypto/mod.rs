//! Router password ciphers and the rule that keeps a BGP session's
//! `encrypted_password` in step with its clear-text `password`.

pub mod arista7;
pub mod cisco7;
pub mod juniper9;

/// Platform password algorithm (`Platform.password_algorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordAlgorithm {
    AristaType7,
    CiscoType7,
    JuniperType9,
}

impl PasswordAlgorithm {
    pub const ALL: [Self; 3] = [Self::AristaType7, Self::CiscoType7, Self::JuniperType9];

    pub fn from_value(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.value() == value)
    }

    pub fn value(&self) -> &'static str {
        match self {
            Self::AristaType7 => "arista-type7",
            Self::CiscoType7 => "cisco-type7",
            Self::JuniperType9 => "juniper-type9",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::AristaType7 => "Arista Type 7",
            Self::CiscoType7 => "Cisco Type 7",
            Self::JuniperType9 => "Juniper Type 9",
        }
    }

    /// Encrypts with `key` (ignored by Cisco; an empty key makes Juniper
    /// random). Already-encrypted and empty input come back unchanged.
    pub fn encrypt(&self, plain: &str, key: &str) -> String {
        match self {
            Self::AristaType7 => arista7::encrypt(plain, key),
            Self::CiscoType7 => cisco7::encrypt(plain),
            Self::JuniperType9 => juniper9::encrypt(plain, Some(key)),
        }
    }

    /// `None` when `cipher` is not a valid ciphertext (for Arista: under
    /// this key). Empty input gives `Some("")`.
    pub fn decrypt(&self, cipher: &str, key: &str) -> Option<String> {
        match self {
            Self::AristaType7 => arista7::decrypt(cipher, key),
            Self::CiscoType7 => cisco7::decrypt(cipher),
            Self::JuniperType9 => juniper9::decrypt(cipher),
        }
    }

    pub fn is_encrypted(&self, s: &str) -> bool {
        match self {
            Self::AristaType7 => arista7::is_encrypted(s),
            Self::CiscoType7 => cisco7::is_encrypted(s),
            Self::JuniperType9 => juniper9::is_encrypted(s),
        }
    }
}

/// Decoded bytes as text: UTF-8 when valid, otherwise Latin-1, so ciphertexts
/// made by tools that encode code points as single bytes stay readable.
fn bytes_to_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| e.into_bytes().into_iter().map(char::from).collect())
}

/// The `encrypted_password` a session must have after saving.
///
/// `algorithm` is the platform algorithm of the session's router (`None`
/// when there is no router, no platform or no algorithm) and
/// `encrypt_enabled` the router's `encrypt_passwords`; `key` is the session
/// IP as stored (direct sessions keep the prefix length, see spec §3.7).
/// Returns `encrypted` unchanged when encryption does not apply.
pub fn session_encrypted_password(
    algorithm: Option<PasswordAlgorithm>,
    encrypt_enabled: bool,
    key: &str,
    password: Option<&str>,
    encrypted: Option<&str>,
) -> Option<String> {
    let mut encrypted = encrypted.map(str::to_owned);
    let Some(algorithm) = algorithm.filter(|_| encrypt_enabled) else {
        return encrypted;
    };
    let encrypt = || password.map(|p| algorithm.encrypt(p, key));

    if password.unwrap_or("").is_empty() && encrypted.as_deref().is_some_and(|e| !e.is_empty()) {
        encrypted = None;
    }
    // Encrypt when missing or stored in another format (e.g. after the
    // platform's algorithm changed)...
    match encrypted.as_deref() {
        None | Some("") => encrypted = encrypt(),
        Some(current) if algorithm.encrypt(current, key) != current => encrypted = encrypt(),
        Some(_) => {}
    }
    // ...or when it no longer matches the clear password (password or key
    // changed). Re-using a valid ciphertext keeps random salts stable.
    let decrypted = encrypted.as_deref().and_then(|e| algorithm.decrypt(e, key));
    if decrypted.as_deref() != password {
        encrypted = encrypt();
    }
    encrypted
}

#[cfg(test)]
mod tests {
    use super::PasswordAlgorithm::*;
    use super::*;

    #[test]
    fn values_and_labels() {
        for algorithm in PasswordAlgorithm::ALL {
            assert_eq!(PasswordAlgorithm::from_value(algorithm.value()), Some(algorithm));
        }
        assert_eq!(PasswordAlgorithm::from_value("cisco-type7"), Some(CiscoType7));
        assert_eq!(PasswordAlgorithm::from_value(""), None);
        assert_eq!(PasswordAlgorithm::from_value("nokia"), None);
        assert_eq!(AristaType7.label(), "Arista Type 7");
        assert_eq!(CiscoType7.label(), "Cisco Type 7");
        assert_eq!(JuniperType9.label(), "Juniper Type 9");
    }

    #[test]
    fn dispatch_round_trips() {
        for algorithm in PasswordAlgorithm::ALL {
            let cipher = algorithm.encrypt("mypassword", "192.0.2.1");
            assert_ne!(cipher, "mypassword");
            assert!(algorithm.is_encrypted(&cipher));
            assert_eq!(algorithm.decrypt(&cipher, "192.0.2.1").as_deref(), Some("mypassword"));
            assert_eq!(algorithm.encrypt(&cipher, "192.0.2.1"), cipher);
            assert_eq!(algorithm.encrypt("", "192.0.2.1"), "");
            assert_eq!(algorithm.decrypt("", "192.0.2.1").as_deref(), Some(""));
        }
    }

    #[test]
    fn latin1_fallback() {
        assert_eq!(bytes_to_string(vec![0x63, 0xe9]), "cé");
        assert_eq!(bytes_to_string("cé".as_bytes().to_vec()), "cé");
    }

    fn run(
        algorithm: Option<PasswordAlgorithm>,
        enabled: bool,
        password: Option<&str>,
        encrypted: Option<&str>,
    ) -> Option<String> {
        session_encrypted_password(algorithm, enabled, "192.0.2.1/31", password, encrypted)
    }

    #[test]
    fn not_applicable_leaves_value_alone() {
        assert_eq!(run(None, true, Some("pw"), Some("stale")).as_deref(), Some("stale"));
        assert_eq!(run(Some(CiscoType7), false, Some("pw"), None), None);
        assert_eq!(run(Some(CiscoType7), false, None, Some("x")).as_deref(), Some("x"));
    }

    #[test]
    fn encrypts_missing_value() {
        let out = run(Some(JuniperType9), true, Some("pw"), None).unwrap();
        assert_eq!(out, juniper9::encrypt("pw", Some("192.0.2.1/31")));
        let out = run(Some(AristaType7), true, Some("pw"), Some("")).unwrap();
        assert_eq!(arista7::decrypt(&out, "192.0.2.1/31").as_deref(), Some("pw"));
    }

    #[test]
    fn clears_when_password_removed() {
        for password in [None, Some("")] {
            let out = run(Some(CiscoType7), true, password, Some("7 0822455D0A16"));
            assert_eq!(out.as_deref().unwrap_or(""), "");
        }
        assert_eq!(run(Some(CiscoType7), true, None, None), None);
    }

    #[test]
    fn keeps_valid_ciphertext() {
        // Cisco is randomly salted: a valid stored value must not churn.
        let stored = "7 0822455D0A16";
        assert_eq!(run(Some(CiscoType7), true, Some("cisco"), Some(stored)).as_deref(), Some(stored));
    }

    #[test]
    fn reencrypts_when_password_changed() {
        let out = run(Some(CiscoType7), true, Some("other"), Some("7 0822455D0A16")).unwrap();
        assert_eq!(cisco7::decrypt(&out).as_deref(), Some("other"));
    }

    #[test]
    fn reencrypts_foreign_format() {
        // Stored as Cisco type 7 while the platform now uses Juniper.
        let out = run(Some(JuniperType9), true, Some("cisco"), Some("7 0822455D0A16")).unwrap();
        assert_eq!(juniper9::decrypt(&out).as_deref(), Some("cisco"));
        // Cisco and Arista share the "7 " prefix: the decrypt check catches it.
        let out = run(Some(AristaType7), true, Some("cisco"), Some("7 0822455D0A16")).unwrap();
        assert_eq!(arista7::decrypt(&out, "192.0.2.1/31").as_deref(), Some("cisco"));
        // A clear-text value in the encrypted field is encrypted.
        let out = run(Some(CiscoType7), true, Some("cisco"), Some("cisco")).unwrap();
        assert!(out.starts_with("7 "));
    }

    #[test]
    fn reencrypts_when_key_changed() {
        let old = arista7::encrypt("pw", "192.0.2.9/31");
        let out = run(Some(AristaType7), true, Some("pw"), Some(&old)).unwrap();
        assert_eq!(out, arista7::encrypt("pw", "192.0.2.1/31"));
    }
}
