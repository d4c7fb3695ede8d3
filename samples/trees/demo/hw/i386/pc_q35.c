#include "qemu/osdep.h"
#include "hw/i386/pc.h"
#include "hw/southbridge/ich9.h"

/* the q35 board: its ICH9 LPC bridge maps the CPU hotplug register block */
static void pc_q35_init(MachineState *machine)
{
    DeviceState *lpc = qdev_new(TYPE_ICH9_LPC_DEVICE);

    qdev_realize_and_unref(lpc, NULL, &error_fatal);
}
