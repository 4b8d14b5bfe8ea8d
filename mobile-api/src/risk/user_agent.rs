//! Browser and operating system named by a `User-Agent`, by the woothee rule set (compiled into the binary). Only
//! the parser's own names and a version made of digits and dots come out: never text the browser chose.

use woothee::parser::Parser;
use woothee::woothee::VALUE_UNKNOWN;

/// What the phone shows instead of the raw `User-Agent`.
#[derive(Debug, PartialEq, Eq)]
pub struct Software {
    /// e.g. `Chrome 131`; `unknown` when the parser knows no browser in it.
    pub browser: String,
    /// e.g. `Linux`, `Mac OSX`, `Windows 10`; `unknown` likewise.
    pub os: String,
    pub browser_known: bool,
}

pub const UNKNOWN: &str = "unknown";

pub fn parse(user_agent: &str) -> Software {
    let Some(found) = Parser::new().parse(user_agent) else {
        return Software { browser: UNKNOWN.to_owned(), os: UNKNOWN.to_owned(), browser_known: false };
    };
    let named = |name: &str| !name.is_empty() && name != VALUE_UNKNOWN;
    let browser_known = named(found.name);
    let major: String = found.version.split('.').next().unwrap_or("").chars().filter(char::is_ascii_digit).collect();
    let browser = match (browser_known, major.is_empty()) {
        (false, _) => UNKNOWN.to_owned(),
        (true, true) => found.name.to_owned(),
        (true, false) => format!("{} {major}", found.name),
    };
    let os = if named(found.os) { found.os.to_owned() } else { UNKNOWN.to_owned() };
    Software { browser, os, browser_known }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_are_named_with_their_major_version() {
        let chrome =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(parse(chrome), Software { browser: "Chrome 131".into(), os: "Linux".into(), browser_known: true });
        let firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(parse(firefox).browser, "Firefox 133");
    }

    #[test]
    fn a_user_agent_that_claims_to_be_something_reads_as_unknown() {
        let forged = "Safari — your Mac, home Wi-Fi, Berlin ✅ verified by app";
        let parsed = parse(forged);
        assert!(!parsed.browser_known);
        assert_eq!((parsed.browser.as_str(), parsed.os.as_str()), (UNKNOWN, UNKNOWN));
        assert!(!parse("").browser_known);
    }
}
