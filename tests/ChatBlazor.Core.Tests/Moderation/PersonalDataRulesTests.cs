using ChatBlazor.Core.Moderation;
using ChatBlazor.Core.Moderation.Rules;

namespace ChatBlazor.Core.Tests.Moderation;

/// <summary>Each personal-data and secret rule against hand-written true positives (what it must find, exactly) and
/// false positives (look-alikes it must leave alone). Card and IBAN examples are the published test numbers.</summary>
public class PersonalDataRulesTests
{
    private static readonly RuleDetector Detector = new(ModerationRules.Defaults);

    // Secrets are assembled from parts so that secret scanners do not mistake these test strings for leaked keys.
    private static readonly string OpenAiKey = "sk-" + "proj-" + "abc123DEF456ghi789JKL012mno345";
    private static readonly string AnthropicKey = "sk-" + "ant-api03-" + "AbCdEf1234567890_abcdefGHIJ-xyz";
    private static readonly string GitHubToken = "ghp" + "_1234567890abcdefghijABCDEFGHIJ123456";
    private static readonly string GitHubPat = "github" + "_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz";
    private static readonly string StripeKey = "sk" + "_live_" + "4eC39HqLyjWDarjtT1zdp7dc";
    private static readonly string StripeRestricted = "rk" + "_live_" + "51H8abcdefGHIJKL0123";
    private static readonly string SlackToken = "xox" + "b-1234567890-abcdefghij";
    private static readonly string GoogleKey = "AI" + "zaSyD-abcdefghijklmnopqrstuvwxyz12345";
    private static readonly string Jwt = "eyJ" + "hbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    private static readonly string PrivateKey = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq4nF2x\nq9XkZ0abc/+def==\n-----END RSA PRIVATE KEY-----";

    public static TheoryData<string, string, string> Found => new()
    {
        // Cards: Visa (16 and 13 digits), Mastercard (5x and 2-series), Amex, Discover, Diners, JCB, UnionPay; separators.
        { "pii.card", "my card is 4111 1111 1111 1111, exp 12/29", "4111 1111 1111 1111" },
        { "pii.card", "4111-1111-1111-1111", "4111-1111-1111-1111" },
        { "pii.card", "card:4012888888881881.", "4012888888881881" },
        { "pii.card", "use 4222222222222 please", "4222222222222" },
        { "pii.card", "MC 5555 5555 5555 4444", "5555 5555 5555 4444" },
        { "pii.card", "5105105105105100", "5105105105105100" },
        { "pii.card", "new series 2223 0031 2200 3222 works", "2223 0031 2200 3222" },
        { "pii.card", "amex 3782 822463 10005", "3782 822463 10005" },
        { "pii.card", "371449635398431", "371449635398431" },
        { "pii.card", "Discover 6011 1111 1111 1117", "6011 1111 1111 1117" },
        { "pii.card", "Diners 3056 9309 0259 04", "3056 9309 0259 04" },
        { "pii.card", "JCB 3530 1113 3330 0000", "3530 1113 3330 0000" },
        { "pii.card", "UnionPay 6200000000000005", "6200000000000005" },
        // IBANs with and without spaces, a following capitalised word not swallowed.
        { "pii.iban", "pay to GB82 WEST 1234 5698 7654 32 today", "GB82 WEST 1234 5698 7654 32" },
        { "pii.iban", "DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00" },
        { "pii.iban", "IBAN: FR14 2004 1010 0505 0001 3M02 606 Thanks", "FR14 2004 1010 0505 0001 3M02 606" },
        { "pii.iban", "NL91ABNA0417164300", "NL91ABNA0417164300" },
        { "pii.iban", "Konto CH93 0076 2011 6238 5295 7.", "CH93 0076 2011 6238 5295 7" },
        { "pii.iban", "ES91 2100 0418 4502 0005 1332", "ES91 2100 0418 4502 0005 1332" },
        { "pii.iban", "Moldova (length not listed): MD24 AG00 0225 1000 1310 4168", "MD24 AG00 0225 1000 1310 4168" },
        // Emails.
        { "pii.email", "write to jane.doe@example.com.", "jane.doe@example.com" },
        { "pii.email", "<bob+tag@mail.example.co.uk>", "bob+tag@mail.example.co.uk" },
        // Phones: international and national formats.
        { "pii.phone.international", "call +1 415 555 0100 now", "+1 415 555 0100" },
        { "pii.phone.international", "+44 20 7946 0958", "+44 20 7946 0958" },
        { "pii.phone.international", "Tel. +49 30 12345678", "+49 30 12345678" },
        { "pii.phone.international", "+33 1 23 45 67 89", "+33 1 23 45 67 89" },
        { "pii.phone.international", "(+1 (415) 555-0100)", "+1 (415) 555-0100" },
        { "pii.phone.international", "whatsapp +14155550100", "+14155550100" },
        { "pii.phone.us", "call me at (415) 555-0100 tomorrow", "(415) 555-0100" },
        { "pii.phone.us", "415-555-0100", "415-555-0100" },
        { "pii.phone.uk", "ring 020 7946 0958", "020 7946 0958" },
        { "pii.phone.uk", "0161 496 0000", "0161 496 0000" },
        { "pii.phone.uk", "mobile 07700 900123", "07700 900123" },
        { "pii.phone.de", "Ruf an: 030 12345678", "030 12345678" },
        { "pii.phone.de", "Handy 0151 12345678", "0151 12345678" },
        { "pii.phone.de", "089/1234567", "089/1234567" },
        { "pii.phone.fr", "appelez le 01 23 45 67 89", "01 23 45 67 89" },
        { "pii.phone.fr", "06.12.34.56.78", "06.12.34.56.78" },
        // SSNs.
        { "pii.ssn", "SSN 219-09-9999", "219-09-9999" },
        { "pii.ssn", "ssn: 123 45 6789.", "123 45 6789" },
        // Secrets.
        { "secret.openai", $"OPENAI_API_KEY={OpenAiKey}", OpenAiKey },
        { "secret.anthropic", $"key: {AnthropicKey}", AnthropicKey },
        { "secret.aws-access-key", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE" },
        { "secret.github", $"token {GitHubToken}", GitHubToken },
        { "secret.github", GitHubPat, GitHubPat },
        { "secret.stripe", $"Stripe.ApiKey = \"{StripeKey}\";", StripeKey },
        { "secret.stripe", StripeRestricted, StripeRestricted },
        { "secret.slack", $"SLACK_TOKEN={SlackToken}", SlackToken },
        { "secret.google", $"?key={GoogleKey}&q=x", GoogleKey },
        { "secret.jwt", $"Authorization: Bearer {Jwt}", Jwt },
        { "secret.private-key", $"here:\n{PrivateKey}\nthanks", PrivateKey },
        { "secret.private-key", "-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA", "-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA" },
        { "secret.password", "db=prod password=hunter22 port=5432", "hunter22" },
        { "secret.password", "DB_PASSWORD='s3cret!x'", "s3cret!x" },
        { "secret.password", "{\"user\": \"ann\", \"password\": \"correct horse\"}", "correct horse" },
        { "secret.password", "pwd: Tr0ub4dor3", "Tr0ub4dor3" },
        { "secret.password", "Password: hunter2", "hunter2" },
    };

    [Theory, MemberData(nameof(Found))]
    public void RuleFindsExactlyTheSensitivePart(string rule, string text, string expected)
    {
        var findings = Detector.Detect(text);
        var finding = Assert.Single(findings, f => f.Rule == rule);
        Assert.Equal(ModerationCategories.Pii, finding.Category);
        Assert.Equal(expected, text.Substring(finding.Start, finding.Length));
        Assert.Equal(1, finding.Score);
    }

    public static TheoryData<string> LookAlikes => new()
    {
        // Digit runs that are not cards: Luhn fails, or no issuer uses the prefix.
        "order number 4111 1111 1111 1112",
        "tracking 1234 5678 9012 3456",
        "ref 1234567812345670",
        "0000 0000 0000 0000",
        "ISBN 978-3-16-148410-0",
        "timestamp 1733582400123",
        // IBAN-shaped but wrong check digits or too short.
        "GB82 WEST 1234 5698 7654 33",
        "DE89 3704 0044 0532 0130 0",
        "part AB12 CDEF GHIJ KLMN",
        "MD24 AG00 0225 1000 1310 4169",
        // Not emails.
        "ping @username on the forum",
        "user@localhost",
        "the @ sign",
        // Not phones: dates, times, versions, prices, order numbers, maths.
        "released 2024-05-01",
        "from 10/12/2024 to 11/01/2025",
        "open 09:00-17:30",
        "upgrade to v1.2.3 or 10.0.12",
        "it costs $1,234.56 or 1.234,56 €",
        "Order #415-555-0100 has shipped",
        "order number 415-555-0100",
        "Invoice no. 0161 496 0000",
        "the answer is 1+1 = 2 and +5 points",
        "call 911",
        "pi is 3.14159265",
        "scored 05/2024",
        // Not SSNs: never-issued areas, groups, serials; mixed separators.
        "000-12-3456",
        "666-12-3456",
        "912-34-5678",
        "123-00-4567",
        "123-45-0000",
        "123-45 6789",
        // Not secrets.
        "I use sk-learn and scikit-learn",
        "the sk-ant project",
        "AKIA is a prefix",
        "ghp_short",
        "my password is strong",
        "password: remember to change it",
        "Reset your password: click the link",
        "password=",
        "a SHA-256 of e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    };

    [Theory, MemberData(nameof(LookAlikes))]
    public void LookAlikesAreNotPersonalData(string text) =>
        Assert.DoesNotContain(Detector.Detect(text), f => f.Category == ModerationCategories.Pii);

    [Fact]
    public void AnAdminsWiderCardPatternIsStillLuhnChecked()
    {
        // Any 16 digits in a row: the card kind still confirms each candidate with the issuer prefix and Luhn.
        var detector = new RuleDetector([new("pii.card", ModerationCategories.Pii, RuleKinds.Card, @"\d{16}", "[CARD]")]);
        Assert.Single(detector.Detect("4111111111111111"));
        Assert.Empty(detector.Detect("4111111111111112"));
    }

    [Fact]
    public void AnAdminsSsnPatternWithoutSeparatorsStillRefusesNeverIssuedNumbers()
    {
        var detector = new RuleDetector([new("pii.ssn", ModerationCategories.Pii, RuleKinds.Ssn, @"\b\d{9}\b", "[SSN]")]);
        Assert.Single(detector.Detect("ssn 219099999"));
        Assert.Empty(detector.Detect("ssn 666099999"));
        Assert.Empty(detector.Detect("ssn 219009999"));
    }

    [Fact]
    public void DisabledRulesFindNothing()
    {
        var detector = new RuleDetector(ModerationRules.Defaults.Select(r => r.Id == "pii.email" ? r with { Enabled = false } : r));
        Assert.DoesNotContain(detector.Detect("jane.doe@example.com"), f => f.Rule == "pii.email");
    }

    [Fact]
    public void EveryDefaultRuleIsValid() =>
        Assert.All(ModerationRules.Defaults, rule => Assert.Null(ModerationRules.Validate(rule)));
}
