"""Habit profiles of the actors in the demo world.

Each profile names a real ATT&CK intrusion set (exact ATT&CK name) and the habits the generator
gives it: where it hosts, where it registers domains, which name servers and certificates it
uses, how its domains, URLs and sender addresses look, which ports its C2 listens on, what it
targets. ATT&CK supplies the behaviour (techniques, malware, tools); these habits only shape the
SYNTHETIC indicator and infrastructure layer. They are inspired by public reporting but are not
a claim about any real operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ActorProfile:
    """One actor's habits.

    Attributes:
        name: the exact ATT&CK intrusion-set name (the world resolves its STIX id).
        country: ISO-3166 alpha-2 of the sponsoring state, or None.
        motivation: ``espionage``, ``sabotage`` or ``financial``.
        in_training: False for actors that get held-out clusters only (the "unknown actor" case).
        activity: relative number of campaigns.
        years: first and last year the actor runs campaigns in the world.
        hosting: provider key -> weight for the IPs it rents.
        registrars: registrar key -> weight.
        ns_style: ``registrar``, ``cloudflare`` or ``own`` -> weight.
        certs: certificate style -> weight (``letsencrypt``, ``openssl``, ``localhost``,
            ``cobaltstrike``, ``reused``: the actor's own reused self-signed certificate).
        cert_subject: subject of the actor's reused self-signed certificate.
        words: domain naming theme.
        tlds: top-level domains it prefers.
        ports: C2 ports.
        url_paths: URL path templates (``{hex}``, ``{word}``, ``{n}`` are filled in).
        mail: freemail domains its phishing senders use ("" means its own domains).
        kinds: indicator kind -> weight.
        sectors: targeted sectors (STIX industry-sector-ov).
        targets: targeted countries (ISO-3166 alpha-2).
        signature: ATT&CK software names used in most campaigns (its tell-tale families).
        extra_software: ATT&CK software the world adds to the group's ATT&CK profile.
        ecosystem: probability that a campaign borrows infrastructure from its country's pool.
    """

    name: str
    country: str | None
    motivation: str
    years: tuple[int, int]
    hosting: dict[str, int]
    registrars: dict[str, int]
    words: tuple[str, ...]
    tlds: tuple[str, ...]
    ports: tuple[int, ...]
    url_paths: tuple[str, ...]
    sectors: tuple[str, ...]
    targets: tuple[str, ...]
    in_training: bool = True
    activity: float = 1.0
    ns_style: dict[str, int] = field(
        default_factory=lambda: {"registrar": 6, "cloudflare": 3, "own": 1}
    )
    certs: dict[str, int] = field(
        default_factory=lambda: {"letsencrypt": 5, "openssl": 2, "reused": 2}
    )
    cert_subject: str = ""
    mail: tuple[str, ...] = ("gmail.com", "outlook.com", "")
    kinds: dict[str, int] = field(
        default_factory=lambda: {
            "domain": 30,
            "ipv4": 20,
            "url": 15,
            "file": 22,
            "email": 6,
            "x509": 7,
        }
    )
    signature: tuple[str, ...] = ()
    extra_software: tuple[str, ...] = ()
    ecosystem: float = 0.15


_WP = ("/wp-content/plugins/{word}/{hex8}.php", "/wp-includes/js/{word}.js?ver={n}")
_API = ("/api/v{n}/{hex8}", "/api/{word}/{hex16}")

ACTORS: tuple[ActorProfile, ...] = (
    # --- Russia -----------------------------------------------------------------------------
    ActorProfile(
        "APT28",
        "RU",
        "espionage",
        (2018, 2026),
        hosting={
            "m247": 5,
            "bph_ironvault": 3,
            "ovh": 2,
            "hetzner": 2,
            "vultr": 1,
            "cloudflare": 1,
        },
        registrars={"namecheap": 4, "njalla": 3, "porkbun": 1},
        words=(
            "nato",
            "mil",
            "defence",
            "securemail",
            "outlook",
            "login",
            "gov",
            "news",
            "mfa",
            "update",
        ),
        tlds=("com", "net", "org", "info"),
        ports=(443, 80, 8443),
        url_paths=("/owa/auth/{hex8}.aspx", "/{word}/login.php?id={hex16}", "/mail/{hex8}"),
        sectors=("government-national", "defense", "aerospace", "non-profit"),
        targets=("UA", "DE", "FR", "US", "PL", "GB"),
        activity=1.4,
        certs={"letsencrypt": 4, "reused": 3, "openssl": 1},
        cert_subject="C=US, ST=NY, L=New York, O=Microsoft Corporation, CN=owa-update",
        signature=("CHOPSTICK", "Zebrocy", "XTunnel"),
        extra_software=("Responder",),
    ),
    ActorProfile(
        "APT29",
        "RU",
        "espionage",
        (2018, 2026),
        hosting={
            "azure": 4,
            "aws": 3,
            "hetzner": 2,
            "ovh": 2,
            "namecheap_hosting": 2,
            "cloudflare": 1,
        },
        registrars={"namecheap": 3, "godaddy": 2, "porkbun": 2},
        words=(
            "embassy",
            "diplomatic",
            "cloud",
            "teams",
            "office",
            "research",
            "covid",
            "sync",
            "cdn",
            "docs",
        ),
        tlds=("com", "net", "org", "io"),
        ports=(443,),
        url_paths=("/api/v{n}/{hex16}/status", "/static/{hex8}.woff", "/cdn-cgi/{hex8}"),
        sectors=("government-national", "healthcare", "technology", "non-profit"),
        targets=("US", "GB", "DE", "NO", "PL", "BE"),
        activity=1.2,
        certs={"letsencrypt": 6, "reused": 2, "localhost": 1},
        cert_subject="C=US, O=Global Diplomatic Services, CN=portal-sync",
        signature=("SUNBURST", "WellMess", "Cobalt Strike"),
    ),
    ActorProfile(
        "Sandworm Team",
        "RU",
        "sabotage",
        (2018, 2026),
        hosting={"bph_ironvault": 3, "selectel": 2, "timeweb": 2, "m247": 2, "ovh": 1},
        registrars={"regru": 3, "namecheap": 2, "njalla": 1},
        words=("energy", "gov", "ua", "update", "power", "grid", "mail", "portal", "service"),
        tlds=("com", "net", "org", "info", "online"),
        ports=(443, 80, 8080),
        url_paths=("/{word}/{hex8}.jsp", "/cgi-bin/{word}.cgi?c={hex8}"),
        sectors=("energy", "utilities", "government-national", "telecommunications"),
        targets=("UA", "GE", "PL"),
        activity=1.1,
        certs={"openssl": 4, "reused": 3, "letsencrypt": 2},
        cert_subject="C=UA, O=Ukrenergo Support, CN=scada-gw",
        kinds={"domain": 20, "ipv4": 25, "url": 10, "file": 35, "email": 4, "x509": 6},
        signature=("Industroyer2", "NotPetya", "BlackEnergy"),
        extra_software=("Olympic Destroyer",),
    ),
    ActorProfile(
        "Turla",
        "RU",
        "espionage",
        (2018, 2026),
        hosting={"ovh": 3, "hetzner": 2, "leaseweb": 2, "hostinger": 2, "contabo": 1},
        registrars={"godaddy": 3, "namecheap": 2, "pdr": 2},
        words=(
            "bakery",
            "photo",
            "garden",
            "travel",
            "hotel",
            "studio",
            "consult",
            "craft",
            "winery",
        ),
        tlds=("com", "net", "org", "de", "fr"),
        ports=(443, 80),
        url_paths=(*_WP, "/{word}/{word}.php"),
        sectors=("government-national", "defense", "education", "non-profit"),
        targets=("DE", "FR", "AT", "CH", "KZ", "UA"),
        certs={"letsencrypt": 5, "openssl": 2, "reused": 2},
        cert_subject="C=DE, ST=Berlin, O=Snake Oil Labs, CN=webmail-proxy",
        signature=("Carbon", "Kazuar", "ComRAT", "Gazer"),
    ),
    ActorProfile(
        "Gamaredon Group",
        "RU",
        "espionage",
        (2018, 2026),
        hosting={"selectel": 3, "timeweb": 3, "beget": 2, "bph_blackfrost": 2, "cloudflare": 1},
        registrars={"regru": 6, "nicenic": 2},
        words=("kakadu", "ortodoks", "sputnik", "moroz", "lisa", "vesna", "gorod", "doma", "reka"),
        tlds=("ru", "online", "site", "space", "xyz"),
        ports=(80, 443),
        url_paths=("/{word}/{word}{n}.php", "/{hex8}/{word}.html"),
        sectors=("government-national", "defense", "government-regional"),
        targets=("UA",),
        activity=1.2,
        ns_style={"registrar": 7, "cloudflare": 2, "own": 1},
        certs={"letsencrypt": 2, "openssl": 5, "localhost": 2},
        kinds={"domain": 40, "ipv4": 20, "url": 15, "file": 18, "email": 4, "x509": 3},
        signature=("Pteranodon",),
    ),
    ActorProfile(
        "Ember Bear",
        "RU",
        "sabotage",
        (2021, 2026),
        in_training=False,
        activity=0.5,
        hosting={"m247": 3, "bph_ironvault": 3, "selectel": 2, "vultr": 1},
        registrars={"namecheap": 3, "regru": 2},
        words=("gov", "ua", "minjust", "rada", "portal", "docs", "secure"),
        tlds=("com", "net", "online"),
        ports=(443, 8443),
        url_paths=("/{word}/{hex8}.php", "/upload/{hex16}"),
        sectors=("government-national", "energy", "transportation"),
        targets=("UA", "PL", "CZ"),
        certs={"openssl": 3, "reused": 3, "letsencrypt": 2},
        cert_subject="C=UA, O=Gov Portal Services, CN=secure-docs",
        signature=("WhisperGate",),
    ),
    # --- China ------------------------------------------------------------------------------
    ActorProfile(
        "APT41",
        "CN",
        "espionage",
        (2018, 2026),
        hosting={"alibaba": 3, "tencent": 2, "vultr": 3, "cloudflare": 2, "linode": 2, "aws": 1},
        registrars={"alibaba": 3, "namecheap": 2, "gname": 2},
        words=("game", "cdn", "update", "steam", "play", "api", "dl", "sync", "micro", "tech"),
        tlds=("com", "net", "xyz", "top", "io"),
        ports=(443, 8443, 53),
        url_paths=(*_API, "/{word}/{hex8}.dat"),
        sectors=(
            "technology",
            "healthcare",
            "telecommunications",
            "entertainment",
            "government-national",
        ),
        targets=("US", "TW", "JP", "IN", "KR", "IT"),
        activity=1.3,
        certs={"letsencrypt": 4, "cobaltstrike": 2, "reused": 2, "openssl": 1},
        cert_subject="C=CN, ST=Guangdong, O=Tencent Games Update, CN=dl-update",
        signature=("ShadowPad", "KEYPLUG", "Cobalt Strike"),
        extra_software=("PlugX",),
        ecosystem=0.25,
    ),
    ActorProfile(
        "Mustang Panda",
        "CN",
        "espionage",
        (2018, 2026),
        hosting={
            "alibaba": 2,
            "vultr": 3,
            "hostinger": 2,
            "chinatelecom": 1,
            "m247": 1,
            "cloudflare": 1,
        },
        registrars={"gname": 3, "alibaba": 2, "namecheap": 2},
        words=("asean", "eu", "news", "summit", "policy", "mofa", "vatican", "diplomat", "report"),
        tlds=("com", "org", "net", "info"),
        ports=(443, 80, 8080),
        url_paths=("/{hex8}/{word}.dat", "/update?id={hex16}"),
        sectors=("government-national", "non-profit", "telecommunications"),
        targets=("MM", "VN", "PH", "MN", "VA", "DE"),
        activity=1.2,
        certs={"openssl": 3, "localhost": 2, "letsencrypt": 3, "reused": 1},
        cert_subject="C=US, O=Adobe Reader Update, CN=localhost.localdomain",
        signature=("PlugX", "TONESHELL"),
        extra_software=("ShadowPad",),
        ecosystem=0.25,
    ),
    ActorProfile(
        "Volt Typhoon",
        "CN",
        "espionage",
        (2021, 2026),
        hosting={"comcast": 3, "charter": 3, "kt": 1, "vultr": 1, "linode": 1},
        registrars={"namecheap": 2, "dynadot": 1},
        words=("router", "vpn", "edge", "gw", "net", "cam"),
        tlds=("com", "net"),
        ports=(443, 8443, 1080, 8080),
        url_paths=("/cgi-bin/{word}.cgi", "/{hex8}"),
        sectors=("utilities", "communications", "transportation", "water", "energy"),
        targets=("US", "GU"),
        certs={"openssl": 4, "localhost": 3, "reused": 3},
        cert_subject="C=US, O=SOHO Router Admin, CN=cisco-rv320",
        kinds={"domain": 8, "ipv4": 55, "url": 5, "file": 20, "email": 0, "x509": 12},
        signature=("Impacket", "FRP", "VersaMem"),
        ecosystem=0.3,
    ),
    ActorProfile(
        "menuPass",
        "CN",
        "espionage",
        (2018, 2024),
        hosting={
            "chinatelecom": 2,
            "chinaunicom": 2,
            "vultr": 2,
            "quadranet": 2,
            "colocrossing": 1,
        },
        registrars={"alibaba": 3, "namecheap": 2, "pdr": 2},
        words=("msft", "cloud", "japan", "mail", "update", "kaspersky", "sync", "office"),
        tlds=("com", "net", "org", "jp"),
        ports=(443, 995, 8080),
        url_paths=("/{word}/{hex8}.php", "/index.php?id={n}"),
        sectors=("technology", "healthcare", "government-national", "aerospace"),
        targets=("JP", "US", "GB", "IN"),
        certs={"openssl": 3, "letsencrypt": 2, "reused": 2},
        cert_subject="C=JP, O=Managed Service Portal, CN=msp-gw",
        signature=("QuasarRAT", "RedLeaves", "PlugX"),
        ecosystem=0.25,
    ),
    # --- Iran -------------------------------------------------------------------------------
    ActorProfile(
        "APT33",
        "IR",
        "espionage",
        (2018, 2026),
        hosting={"m247": 3, "hostinger": 2, "contabo": 2, "leaseweb": 1, "aws": 1},
        registrars={"namecheap": 4, "pdr": 2},
        words=("aero", "aviation", "petro", "jobs", "career", "boeing", "energy", "gulf"),
        tlds=("com", "net", "org"),
        ports=(443, 80, 808, 880),
        url_paths=("/{word}/{word}.hta", "/jobs/{hex8}"),
        sectors=("aerospace", "energy", "chemical"),
        targets=("SA", "US", "KR", "AE"),
        certs={"letsencrypt": 4, "openssl": 2, "reused": 2},
        cert_subject="C=SA, O=Aramco Careers, CN=hr-portal",
        signature=("TURNEDUP", "POWERTON"),
        ecosystem=0.2,
    ),
    ActorProfile(
        "Magic Hound",
        "IR",
        "espionage",
        (2018, 2026),
        hosting={"m247": 2, "hostinger": 2, "ovh": 2, "namecheap_hosting": 2, "cloudflare": 1},
        registrars={"namecheap": 4, "porkbun": 1, "namesilo": 2},
        words=(
            "account",
            "verify",
            "drive",
            "share",
            "login",
            "signin",
            "secure",
            "mail",
            "meet",
            "live",
        ),
        tlds=("live", "online", "site", "com", "info"),
        ports=(443, 80),
        url_paths=("/{word}/signin?continue={hex16}", "/drive/{hex16}"),
        sectors=("government-national", "education", "non-profit", "healthcare"),
        targets=("US", "IL", "GB", "SA"),
        activity=1.2,
        kinds={"domain": 35, "ipv4": 15, "url": 20, "file": 12, "email": 12, "x509": 6},
        mail=("gmail.com", "outlook.com", "proton.me", ""),
        cert_subject="C=US, O=Google Account Security, CN=accounts-verify",
        signature=("PowerLess", "CharmPower"),
        ecosystem=0.2,
    ),
    ActorProfile(
        "MuddyWater",
        "IR",
        "espionage",
        (2018, 2026),
        hosting={"hostinger": 2, "contabo": 2, "m247": 2, "digitalocean": 2, "colocrossing": 1},
        registrars={"namecheap": 3, "pdr": 2, "namesilo": 1},
        words=("gov", "ministry", "telecom", "support", "remote", "help", "files", "portal"),
        tlds=("com", "net", "org", "info"),
        ports=(443, 80, 8080),
        url_paths=("/{word}/{hex8}.aspx", "/upload/{word}.php"),
        sectors=("telecommunications", "government-national", "energy"),
        targets=("TR", "SA", "IL", "JO", "IQ", "AE"),
        certs={"letsencrypt": 3, "openssl": 3, "reused": 2},
        cert_subject="C=TR, O=Remote Support Desk, CN=rmm-gw",
        signature=("POWERSTATS", "PowGoop"),
        ecosystem=0.2,
    ),
    ActorProfile(
        "OilRig",
        "IR",
        "espionage",
        (2018, 2026),
        hosting={"ovh": 2, "hetzner": 2, "contabo": 2, "m247": 1, "leaseweb": 1},
        registrars={"namecheap": 3, "godaddy": 2, "pdr": 1},
        words=("webmail", "hr", "jobs", "update", "dns", "support", "cloud", "office"),
        tlds=("com", "net", "org"),
        ports=(53, 443, 80),
        url_paths=("/{hex8}/{word}.aspx", "/ews/{hex16}"),
        sectors=("government-national", "financial-services", "energy", "telecommunications"),
        targets=("AE", "SA", "KW", "IL", "LB", "JO"),
        activity=1.1,
        ns_style={"registrar": 4, "cloudflare": 1, "own": 4},
        cert_subject="C=AE, O=Exchange Web Services, CN=ews-mail",
        signature=("Helminth", "BONDUPDATER", "QUADAGENT"),
        ecosystem=0.2,
    ),
    ActorProfile(
        "APT39",
        "IR",
        "espionage",
        (2019, 2025),
        in_training=False,
        activity=0.5,
        hosting={"m247": 2, "hostinger": 2, "contabo": 2, "ovh": 1},
        registrars={"namecheap": 3, "pdr": 2},
        words=("travel", "airline", "booking", "telecom", "hotel", "visa"),
        tlds=("com", "net", "info"),
        ports=(443, 80),
        url_paths=("/{word}/{hex8}.php",),
        sectors=("telecommunications", "transportation", "hospitality-leisure"),
        targets=("SA", "AE", "TR", "US"),
        cert_subject="C=IR, O=Travel Booking Portal, CN=booking-gw",
        signature=("Remexi", "MechaFlounder"),
        ecosystem=0.25,
    ),
    # --- North Korea ------------------------------------------------------------------------
    ActorProfile(
        "Lazarus Group",
        "KP",
        "espionage",
        (2018, 2026),
        hosting={
            "kt": 2,
            "skb": 1,
            "vultr": 2,
            "hostinger": 2,
            "namecheap_hosting": 2,
            "cloudflare": 1,
        },
        registrars={"namecheap": 4, "porkbun": 2, "namesilo": 2},
        words=(
            "crypto",
            "defi",
            "wallet",
            "recruit",
            "careers",
            "invest",
            "exchange",
            "trade",
            "swap",
        ),
        tlds=("com", "io", "xyz", "org", "net"),
        ports=(443, 8080, 8443, 80),
        url_paths=("/{word}/{word}.asp", "/board/{word}.php?id={n}", "/jobs/{hex8}"),
        sectors=("financial-services", "defense", "technology", "aerospace"),
        targets=("US", "KR", "JP", "GB", "IN", "DE"),
        activity=1.4,
        certs={"letsencrypt": 4, "reused": 3, "openssl": 1},
        cert_subject="C=US, ST=CA, L=Mountain View, O=Google Inc, CN=*.google-careers",
        signature=("AppleJeus", "BLINDINGCAN", "Dtrack"),
        ecosystem=0.25,
    ),
    ActorProfile(
        "Kimsuky",
        "KP",
        "espionage",
        (2018, 2026),
        hosting={"kt": 2, "skb": 2, "hostinger": 2, "vultr": 1, "namecheap_hosting": 1},
        registrars={"namecheap": 3, "gname": 2, "porkbun": 1},
        words=("naver", "daum", "nid", "member", "unification", "korea", "policy", "mail", "login"),
        tlds=("com", "net", "kr", "online", "site"),
        ports=(80, 443),
        url_paths=("/bbs/{word}.php?no={n}", "/{word}/down.php?idx={n}"),
        sectors=("government-national", "non-profit", "education", "defense"),
        targets=("KR", "US", "JP"),
        activity=1.3,
        kinds={"domain": 35, "ipv4": 15, "url": 18, "file": 14, "email": 14, "x509": 4},
        mail=("naver.com", "daum.net", "gmail.com", ""),
        cert_subject="C=KR, O=Naver Member Center, CN=nid-login",
        signature=("BabyShark", "AppleSeed", "KGH_SPY"),
        ecosystem=0.25,
    ),
    ActorProfile(
        "Andariel",
        "KP",
        "espionage",
        (2018, 2025),
        activity=0.8,
        hosting={"kt": 3, "skb": 2, "vultr": 1, "m247": 1},
        registrars={"namecheap": 2, "gname": 2},
        words=("defense", "medical", "hospital", "update", "erp", "asset", "kr"),
        tlds=("com", "net", "kr"),
        ports=(443, 8080, 4444),
        url_paths=("/{word}/{hex8}.jsp",),
        sectors=("defense", "healthcare", "aerospace"),
        targets=("KR", "US", "IN"),
        cert_subject="C=KR, O=Asset Management Agent, CN=ams-update",
        signature=("Rifdoor", "Dtrack"),
        extra_software=("Dtrack",),
        ecosystem=0.35,
    ),
    # --- financially motivated --------------------------------------------------------------
    ActorProfile(
        "FIN7",
        None,
        "financial",
        (2018, 2026),
        hosting={
            "bph_nordshield": 3,
            "bph_ironvault": 2,
            "digitalocean": 2,
            "vultr": 1,
            "cloudflare": 1,
        },
        registrars={"namecheap": 3, "namesilo": 2, "porkbun": 2},
        words=(
            "pos",
            "payment",
            "invoice",
            "restaurant",
            "order",
            "menu",
            "retail",
            "security",
            "scan",
        ),
        tlds=("com", "us", "net", "shop"),
        ports=(443, 8080, 53),
        url_paths=("/{word}/{hex8}.js", "/download/{word}.zip"),
        sectors=("retail", "hospitality-leisure", "financial-services"),
        targets=("US", "GB", "AU", "FR"),
        activity=1.1,
        certs={"letsencrypt": 4, "cobaltstrike": 2, "reused": 2},
        cert_subject="C=US, O=Combi Security, CN=pentest-portal",
        signature=("Carbanak", "GRIFFON", "Lizar"),
        ecosystem=0.0,
    ),
    ActorProfile(
        "Wizard Spider",
        "RU",
        "financial",
        (2018, 2025),
        hosting={
            "bph_blackfrost": 3,
            "bph_nordshield": 2,
            "colocrossing": 2,
            "m247": 1,
            "cloudflare": 1,
        },
        registrars={"namecheap": 2, "nicenic": 2, "njalla": 1},
        words=("docs", "invoice", "tax", "payroll", "report", "scan", "bill", "fax"),
        tlds=("com", "top", "xyz", "biz", "net"),
        ports=(443, 447, 449, 8082),
        url_paths=("/{hex8}/{word}/{n}/", "/{word}{n}.dll"),
        sectors=("healthcare", "government-local", "manufacturing", "education"),
        targets=("US", "DE", "GB", "IE", "CA"),
        activity=1.1,
        certs={"cobaltstrike": 3, "openssl": 3, "letsencrypt": 2},
        signature=("TrickBot", "Conti", "Bazar", "Ryuk"),
        ecosystem=0.0,
    ),
    ActorProfile(
        "TA505",
        None,
        "financial",
        (2018, 2024),
        hosting={"bph_nordshield": 2, "bph_blackfrost": 2, "hostinger": 2, "colocrossing": 1},
        registrars={"namecheap": 2, "nicenic": 3, "pdr": 1},
        words=("download", "file", "share", "office", "cdn", "doc", "view", "update"),
        tlds=("com", "top", "club", "xyz", "info"),
        ports=(443, 80, 8080),
        url_paths=("/{word}/{hex8}.php", "/{hex16}"),
        sectors=("financial-services", "retail", "healthcare"),
        targets=("US", "KR", "DE", "GB"),
        kinds={"domain": 28, "ipv4": 18, "url": 18, "file": 24, "email": 8, "x509": 4},
        certs={"openssl": 3, "letsencrypt": 3, "cobaltstrike": 1},
        signature=("FlawedAmmyy", "SDBbot", "Clop"),
        ecosystem=0.0,
    ),
)

# Commodity malware of unattributed noise clusters (ATT&CK names).
NOISE_SOFTWARE = (
    "njRAT",
    "Remcos",
    "AsyncRAT",
    "Agent Tesla",
    "NanoCore",
    "Lumma Stealer",
    "DarkGate",
    "Emotet",
    "QakBot",
)
NOISE_WORDS = (
    "invoice",
    "delivery",
    "parcel",
    "bank",
    "verify",
    "prize",
    "support",
    "refund",
    "login",
)
NOISE_TLDS = ("com", "xyz", "top", "shop", "online", "icu")

# Commodity tools that many actors reach for; their public builds share hashes across actors.
COMMODITY_SOFTWARE = ("Cobalt Strike", "Mimikatz", "PsExec", "Impacket", "AdFind", "Sliver")
