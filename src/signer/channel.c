#include "channel.h"

#include "../common/error.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int rombsr_channel_send(int fd, const void *msg, size_t len)
{
	ssize_t n;

	do
		n = send(fd, msg, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != len)
		return rombsr_error(ROMBSR_EIO, "signer channel: send failed: %s", n < 0 ? strerror(errno) : "short");
	return 0;
}

int rombsr_channel_recv(int fd, void *msg, size_t len)
{
	ssize_t n;

	do
		n = recv(fd, msg, len, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return rombsr_error(ROMBSR_EIO, "signer channel closed");
	if (n < 0)
		return rombsr_error(ROMBSR_EIO, "signer channel: %s", strerror(errno));
	/* MSG_TRUNC reports the real size: a message of another size is
	 * refused, never read in part. */
	if ((size_t)n != len)
		return rombsr_error(ROMBSR_EINVAL, "signer channel: message of %zd bytes, expected %zu", n, len);
	return 0;
}

int rombsr_channel_call(int fd, const struct rombsr_channel_request *m, struct rombsr_channel_reply *reply)
{
	int r = rombsr_channel_send(fd, m, sizeof(*m));

	if (r == 0)
		r = rombsr_channel_recv(fd, reply, sizeof(*reply));
	if (r == 0 && reply->magic != ROMBSR_CHANNEL_MAGIC)
		r = rombsr_error(ROMBSR_EINVAL, "signer channel: bad reply");
	reply->message[sizeof(reply->message) - 1] = '\0';
	return r;
}
