/* A YubiHSM's own audit log, bound into ROMbsr's (docs/yubihsm.md, "The
 * device's log"): after each pass the worker takes the device's entries
 * from the audit signer, checks their hash chain, logs each as a
 * "device-log" entry naming the request whose signature it records, and
 * only then lets the signer free their room on the device. */
#ifndef ROMBSR_SIGN_DEVICE_LOG_H
#define ROMBSR_SIGN_DEVICE_LOG_H

#include <stdbool.h>
#include <stdint.h>

struct rombsr_sign_node;

struct rombsr_device_log_state {
	bool enabled;           /* an authority is on a YubiHSM */
	bool have_last;         /* last_number / last_digest hold the last entry logged */
	uint16_t last_number;
	unsigned char last_digest[16];
	uint64_t match_from;    /* signature entries from here on are not matched yet */
	uint64_t anomalies;     /* since start, for the metrics */
};

/* Finds the last device-log entry in the audit log (the chain goes on from
 * it). */
int rombsr_device_log_open(struct rombsr_sign_node *node);
/* Takes, checks, logs and acknowledges everything the device logged since. */
int rombsr_device_log_drain(struct rombsr_sign_node *node);

#endif
