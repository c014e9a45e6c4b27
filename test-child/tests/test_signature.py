"""The webhook signature: GitHub's documented test vector, rotation secrets, and what is refused."""

from osorganicai.signature import sign, verify

# GitHub's documented test vector (docs: "Validating webhook deliveries").
GITHUB_SECRET = b"It's a Secret to Everybody"
GITHUB_PAYLOAD = b"Hello, World!"
GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_github_documented_vector() -> None:
    assert sign(GITHUB_SECRET, GITHUB_PAYLOAD) == GITHUB_SIGNATURE
    assert verify([GITHUB_SECRET], GITHUB_PAYLOAD, GITHUB_SIGNATURE)


def test_rejects_wrong_missing_or_malformed_signatures() -> None:
    assert not verify([GITHUB_SECRET], GITHUB_PAYLOAD + b" ", GITHUB_SIGNATURE)
    assert not verify([b"another secret"], GITHUB_PAYLOAD, GITHUB_SIGNATURE)
    assert not verify([GITHUB_SECRET], GITHUB_PAYLOAD, None)
    assert not verify([GITHUB_SECRET], GITHUB_PAYLOAD, "")
    assert not verify([GITHUB_SECRET], GITHUB_PAYLOAD, GITHUB_SIGNATURE.removeprefix("sha256="))
    assert not verify([GITHUB_SECRET], GITHUB_PAYLOAD, "sha1=" + GITHUB_SIGNATURE[7:])
    assert not verify([GITHUB_SECRET], GITHUB_PAYLOAD, "sha256=zz\u00e9")


def test_previous_secret_is_accepted_during_rotation() -> None:
    assert verify([b"new secret", GITHUB_SECRET], GITHUB_PAYLOAD, GITHUB_SIGNATURE)
