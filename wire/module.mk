# wire/: the mpqemu codec, compiled twice: strict PIE for the remote and
# PIC for libmpjail-proxy.
WIRE_SRCS := wire/wire.c
WIRE_STRICT_OBJS := $(WIRE_SRCS:%.c=$(O)/strict/%.o)
WIRE_PIC_OBJS := $(WIRE_SRCS:%.c=$(O)/pic/%.o)
ALL_OBJS += $(WIRE_STRICT_OBJS)
