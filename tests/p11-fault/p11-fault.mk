# The fault-injecting PKCS#11 module (tests/p11-fault, docs/sign-node.md "HSM
# faults"): test-only. It is built with everything else so that the tests
# have it, and `make install` never installs it: a module that answers
# errors on purpose has no place on a sign node.
P11_FAULT_SRC := tests/p11-fault/p11_fault.c
P11_FAULT_OBJ = $(call obj,$(P11_FAULT_SRC))
P11_FAULT_SO = $(BUILD)/tests/librombsr-p11-fault.so

$(P11_FAULT_OBJ): CFLAGS += -fvisibility=hidden
$(P11_FAULT_OBJ): $(BUILD)/gen/p11_names.inc tests/p11-fault/p11_fault_forward.inc

$(P11_FAULT_SO): $(P11_FAULT_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -shared -fvisibility=hidden -Wl,--no-undefined -Wl,-soname,librombsr-p11-fault.so \
		-o $@ $(P11_FAULT_OBJ) -ldl -lpthread

p11-fault: $(P11_FAULT_SO)

.PHONY: p11-fault
