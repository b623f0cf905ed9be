# The kill -9 soak, short: 45 requests from three build nodes pushing at
# once, the daemon killed with SIGKILL at random moments; exactly one
# response per request, queue and audit log verify, every HSM signature in
# the log (tests/integration/soak-lib.sh; bench/soak.sh runs 1,000).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"
. "$(dirname "$0")/soak-lib.sh"

soak 45
