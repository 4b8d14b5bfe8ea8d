//! What the app shows for a login's status (`GET /v1/logins/{uuid}`), after the user decided. The confirm's
//! answer only says the decision was recorded: the browser may still cancel before it collects the login, so an
//! app waits for a final status and shows that, never "logged in" on the confirm alone.

use qrlogin_shared::session::LoginStatus;

/// One sentence for the user, for each status.
pub fn describe_outcome(status: LoginStatus) -> &'static str {
    match status {
        LoginStatus::Scanned => "Waiting for your answer: approve or deny this login.",
        LoginStatus::Confirmed => "Approved; waiting for the browser to finish logging in.",
        LoginStatus::Claimed => "Done: the browser is logged in.",
        LoginStatus::Denied => "Denied: the browser was told the login was refused.",
        LoginStatus::Cancelled => "The login was cancelled in the browser: nobody was logged in.",
        LoginStatus::Expired => "The login expired before the browser finished it: nobody was logged in.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_words() {
        let words: std::collections::BTreeSet<_> = LoginStatus::ALL.iter().map(|s| describe_outcome(*s)).collect();
        assert_eq!(words.len(), LoginStatus::ALL.len());
    }
}
