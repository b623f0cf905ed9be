/* Two throwaway public certificates for the harnesses that need a public
 * bundle (bundle manifest, capture module calls): an RSA-2048 "platform"
 * key and a P-256 "manifest" key, made once with
 *   openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=platform -days 36500
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=manifest -days 36500
 * Fixed, not generated per run, so the seed manifests can name their
 * SHA-256 values and a crash reproduces anywhere. Their private keys were
 * thrown away: nothing here can sign. */
#ifndef ROMBSR_FUZZ_KEYS_H
#define ROMBSR_FUZZ_KEYS_H

#define FUZZ_PLATFORM_PEM \
	"-----BEGIN CERTIFICATE-----\n" \
	"MIIDCTCCAfGgAwIBAgIUO3YtVw75kBSshC1YJo4JEZr8byswDQYJKoZIhvcNAQEL\n" \
	"BQAwEzERMA8GA1UEAwwIcGxhdGZvcm0wIBcNMjYxMjAzMDkwNDQ5WhgPMjEyNjEx\n" \
	"MDkwOTA0NDlaMBMxETAPBgNVBAMMCHBsYXRmb3JtMIIBIjANBgkqhkiG9w0BAQEF\n" \
	"AAOCAQ8AMIIBCgKCAQEAsliR6BkM9myOtARGgok0u62Iky0xJKhcZ0fXdSQp44v1\n" \
	"0hWHAcyS1NTgV4l3kWGpjxa8rQ5IgmUlDOjHvx2FfuiEuGLs0MdnyWTGdAVpK4pj\n" \
	"8am/z/yKkylZO3H985WYmNjHTUqNKI03f5aP2xhxaUeVaxgKOGBkJ1b4u4NYlwnE\n" \
	"OqX+cKJ7JyaeRV2nYPwYLt/eTOjDszHvn4mwwEI6fmPpsyqhiv9ho4EEuxcnocNB\n" \
	"+gpEvo0XEqjlEyO8nX1rJvSpQOri11Apm1n3A4WWoiI/f2HuBPCyQVcs+v8hWyVF\n" \
	"x49q6oeEUPPkh+b2b4xb5dstDfyKU46HgJMbq45XeQIDAQABo1MwUTAdBgNVHQ4E\n" \
	"FgQU/WSy1kWxWTbwMBYYxBaFH6AfJXIwHwYDVR0jBBgwFoAU/WSy1kWxWTbwMBYY\n" \
	"xBaFH6AfJXIwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEALfXY\n" \
	"Nt0YS5IOSowrTHr+SU+ozAEUTvU7+Ogly/i9L+4Gz0eyoylJqzSIfde2v17Q9pwm\n" \
	"UuOnvIVon2Aq3q5uD+Zej2c7voJfyZEEq1Y8jkdvbFEW1EJ8QO+v0vetrvsevWUu\n" \
	"fZsPMVhNslxSiizi2+Q7VX1FUgEKicu5Y4Ke3EHXvdyg2c1DLLIGG+8sPGNHzbmz\n" \
	"lJDnlmFHuASA+sRpXkWTh9y/QARpbCjumFtwGYZAS2ujlld4i05D0spSuM4RBYmJ\n" \
	"8ASEKiQVkCbfUJU+o14OPAE/XwW/+GZ5XHNT1b+Nn+JVE730T968BOHzvHvj3Qo/\n" \
	"D8eewzvPxLGK6FkqtQ==\n" \
	"-----END CERTIFICATE-----\n" \

#define FUZZ_MANIFEST_PEM \
	"-----BEGIN CERTIFICATE-----\n" \
	"MIIBfTCCASOgAwIBAgIUSX2rIC34wMosq8amGLK/Dk2t2QgwCgYIKoZIzj0EAwIw\n" \
	"EzERMA8GA1UEAwwIbWFuaWZlc3QwIBcNMjYxMjAzMDkwNDQ5WhgPMjEyNjExMDkw\n" \
	"OTA0NDlaMBMxETAPBgNVBAMMCG1hbmlmZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0D\n" \
	"AQcDQgAE2TkpNjZOqmnxH/ti4pWl0lV1a04/xUJnpPJambrLbdG5VhOoCAv5Ik4T\n" \
	"EBj7vlumzSHgssAveLcw0xflc/N4c6NTMFEwHQYDVR0OBBYEFFwk7HVIUvQOdd0Q\n" \
	"rPQRQ3CWw8RiMB8GA1UdIwQYMBaAFFwk7HVIUvQOdd0QrPQRQ3CWw8RiMA8GA1Ud\n" \
	"EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgfJzXnp5Z29TkTmIZx2UZygzF\n" \
	"fBLObQIg3bn1c1LJZNYCIQCHNRKRcj1F+D06Te1DTIeR3A/2SM2/Betw7mY9p3mp\n" \
	"Pw==\n" \
	"-----END CERTIFICATE-----\n" \

#define FUZZ_PLATFORM_SPKI "c7717b53db1167680825ac9ad26c17fc97704b55850ea6f71ecaa6a035ef0496"
#define FUZZ_PLATFORM_CERT "c5613e42e53f7aae9df9938caa28f01c0fa501489b1b23224a0ee4a34a8ee266"
#define FUZZ_MANIFEST_SPKI "cfb4e19a7cac5e669fc1f674ca770476705d03933efe87e1ffda9e019b9017af"
#define FUZZ_MANIFEST_CERT "b1a0ad406d3a141b8c11f065b94b91533c16dd0f582388655e64eca02fe5aafc"

/* A throwaway P-256 audit key (its private half thrown away): its verifier
 * key, and its checkpoints of sizes 2 and 5 of the log in
 * fuzz/corpus/audit_chunk/five-entries, made once with
 * rombsr_audit_log_checkpoint, and entry 1 of that log, which
 * fuzz/corpus/checkpoint/proof-index-1 proves. */
#define FUZZ_AUDIT_ORIGIN "rombsr.fuzz/audit"
#define FUZZ_AUDIT_VKEY \
	FUZZ_AUDIT_ORIGIN "+fd0bc4c3+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABHwStZTJZMrge8x1JOcMy3jfFKi3iRZOUnj1uqWNx0H9" \
	"Wm3fYRbLVv2UNYfbUo9mYyoIQV1/XgF31E4tO4sTG6w="
#define FUZZ_AUDIT_NOTE2 \
	"rombsr.fuzz/audit\n2\nXTdbu9O1Q0oB/xkEQPQLHREMh1HF/3bZ5WgC8aYVeao=\n\n" \
	"\xe2\x80\x94 rombsr.fuzz/audit " \
	"/QvEwzBFAiEA69ewZm1L5iF6Uct4R6z6dJ0+C6yEIatyC11W0LaaHVICIDp5+oIjrt0CLTbUk4igYVEqaJhlmXFf+b+3c6Zkyjaa\n"
#define FUZZ_AUDIT_NOTE5 \
	"rombsr.fuzz/audit\n5\niKrEhRWakMTyWSrX2bgac+sQrncxmDnBjKTu8B+gYNo=\n\n" \
	"\xe2\x80\x94 rombsr.fuzz/audit " \
	"/QvEwzBEAiAynxCON2W9EeMWs8EwFxonqehlqV6OWuEI2aUM8qBG0QIgOAztZLyFEzxq8Bsqrh3w6GSxT7/zDWVG8HnpShT3ysA=\n"
#define FUZZ_AUDIT_ENTRY1 \
	"{\"index\":1,\"prev\":\"75aa2272dbab94aefd10d0310afcfc459f086dc8e95368df11514f2357a4a083\"," \
	"\"result\":\"ok\",\"role\":\"signing\",\"time\":1718000001,\"token\":\"rombsr-release\"," \
	"\"type\":\"hsm-login\",\"v\":1}"

#endif
