/* stopcode.c: names of the Windows bug-check codes a soak meets, and the
 * detail of a Hyper-V enlightened guest's crash as QEMU reports it. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopcode.h"

struct stopcode {
	uint64_t	 code;
	const char	*name;
};

/*
 * Sorted by code for bsearch; names as Microsoft's "Bug Check Code
 * Reference" spells them. Not the whole reference: the codes a driver,
 * memory, storage, power or hot-add fault gives, and those a guest shows
 * whatever the fault (watchdogs, manual crashes). A code missing here is
 * still reported, by number.
 */
static const struct stopcode stopcodes[] = {
	{ 0x00000001, "APC_INDEX_MISMATCH" },
	{ 0x00000004, "INVALID_DATA_ACCESS_TRAP" },
	{ 0x00000008, "IRQL_NOT_DISPATCH_LEVEL" },
	{ 0x00000009, "IRQL_NOT_GREATER_OR_EQUAL" },
	{ 0x0000000A, "IRQL_NOT_LESS_OR_EQUAL" },
	{ 0x0000000D, "MUTEX_LEVEL_NUMBER_VIOLATION" },
	{ 0x0000000F, "SPIN_LOCK_ALREADY_OWNED" },
	{ 0x00000012, "TRAP_CAUSE_UNKNOWN" },
	{ 0x00000018, "REFERENCE_BY_POINTER" },
	{ 0x00000019, "BAD_POOL_HEADER" },
	{ 0x0000001A, "MEMORY_MANAGEMENT" },
	{ 0x0000001E, "KMODE_EXCEPTION_NOT_HANDLED" },
	{ 0x00000020, "KERNEL_APC_PENDING_DURING_EXIT" },
	{ 0x00000022, "FILE_SYSTEM" },
	{ 0x00000023, "FAT_FILE_SYSTEM" },
	{ 0x00000024, "NTFS_FILE_SYSTEM" },
	{ 0x0000002E, "DATA_BUS_ERROR" },
	{ 0x00000031, "PHASE0_INITIALIZATION_FAILED" },
	{ 0x00000032, "PHASE1_INITIALIZATION_FAILED" },
	{ 0x00000034, "CACHE_MANAGER" },
	{ 0x00000035, "NO_MORE_IRP_STACK_LOCATIONS" },
	{ 0x00000039, "SYSTEM_EXIT_OWNED_MUTEX" },
	{ 0x0000003B, "SYSTEM_SERVICE_EXCEPTION" },
	{ 0x0000003D, "INTERRUPT_EXCEPTION_NOT_HANDLED" },
	{ 0x0000003E, "MULTIPROCESSOR_CONFIGURATION_NOT_SUPPORTED" },
	{ 0x0000003F, "NO_MORE_SYSTEM_PTES" },
	{ 0x00000041, "MUST_SUCCEED_POOL_EMPTY" },
	{ 0x00000044, "MULTIPLE_IRP_COMPLETE_REQUESTS" },
	{ 0x00000049, "PAGE_FAULT_WITH_INTERRUPTS_OFF" },
	{ 0x0000004A, "IRQL_GT_ZERO_AT_SYSTEM_SERVICE" },
	{ 0x0000004C, "FATAL_UNHANDLED_HARD_ERROR" },
	{ 0x0000004D, "NO_PAGES_AVAILABLE" },
	{ 0x0000004E, "PFN_LIST_CORRUPT" },
	{ 0x00000050, "PAGE_FAULT_IN_NONPAGED_AREA" },
	{ 0x00000051, "REGISTRY_ERROR" },
	{ 0x00000053, "NO_BOOT_DEVICE" },
	{ 0x0000005A, "CRITICAL_SERVICE_FAILED" },
	{ 0x0000005C, "HAL_INITIALIZATION_FAILED" },
	{ 0x0000005D, "UNSUPPORTED_PROCESSOR" },
	{ 0x00000067, "CONFIG_INITIALIZATION_FAILED" },
	{ 0x00000069, "IO1_INITIALIZATION_FAILED" },
	{ 0x0000006B, "PROCESS1_INITIALIZATION_FAILED" },
	{ 0x00000074, "BAD_SYSTEM_CONFIG_INFO" },
	{ 0x00000076, "PROCESS_HAS_LOCKED_PAGES" },
	{ 0x00000077, "KERNEL_STACK_INPAGE_ERROR" },
	{ 0x00000079, "MISMATCHED_HAL" },
	{ 0x0000007A, "KERNEL_DATA_INPAGE_ERROR" },
	{ 0x0000007B, "INACCESSIBLE_BOOT_DEVICE" },
	{ 0x0000007C, "BUGCODE_NDIS_DRIVER" },
	{ 0x0000007E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED" },
	{ 0x0000007F, "UNEXPECTED_KERNEL_MODE_TRAP" },
	{ 0x00000080, "NMI_HARDWARE_FAILURE" },
	{ 0x0000008E, "KERNEL_MODE_EXCEPTION_NOT_HANDLED" },
	{ 0x00000096, "INVALID_WORK_QUEUE_ITEM" },
	{ 0x0000009A, "SYSTEM_LICENSE_VIOLATION" },
	{ 0x0000009C, "MACHINE_CHECK_EXCEPTION" },
	{ 0x0000009E, "USER_MODE_HEALTH_MONITOR" },
	{ 0x0000009F, "DRIVER_POWER_STATE_FAILURE" },
	{ 0x000000A0, "INTERNAL_POWER_ERROR" },
	{ 0x000000A1, "PCI_BUS_DRIVER_INTERNAL" },
	{ 0x000000A2, "MEMORY_IMAGE_CORRUPT" },
	{ 0x000000A3, "ACPI_DRIVER_INTERNAL" },
	{ 0x000000A5, "ACPI_BIOS_ERROR" },
	{ 0x000000AC, "HAL_MEMORY_ALLOCATION" },
	{ 0x000000B8, "ATTEMPTED_SWITCH_FROM_DPC" },
	{ 0x000000B9, "CHIPSET_DETECTED_ERROR" },
	{ 0x000000BD, "INVALID_HIBERNATED_STATE" },
	{ 0x000000BE, "ATTEMPTED_WRITE_TO_READONLY_MEMORY" },
	{ 0x000000BF, "MUTEX_ALREADY_OWNED" },
	{ 0x000000C1, "SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION" },
	{ 0x000000C2, "BAD_POOL_CALLER" },
	{ 0x000000C4, "DRIVER_VERIFIER_DETECTED_VIOLATION" },
	{ 0x000000C5, "DRIVER_CORRUPTED_EXPOOL" },
	{ 0x000000C6, "DRIVER_CAUGHT_MODIFYING_FREED_POOL" },
	{ 0x000000C7, "TIMER_OR_DPC_INVALID" },
	{ 0x000000C8, "IRQL_UNEXPECTED_VALUE" },
	{ 0x000000C9, "DRIVER_VERIFIER_IOMANAGER_VIOLATION" },
	{ 0x000000CA, "PNP_DETECTED_FATAL_ERROR" },
	{ 0x000000CB, "DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS" },
	{ 0x000000CC, "PAGE_FAULT_IN_FREED_SPECIAL_POOL" },
	{ 0x000000CD, "PAGE_FAULT_BEYOND_END_OF_ALLOCATION" },
	{ 0x000000CE, "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS" },
	{ 0x000000D0, "DRIVER_CORRUPTED_MMPOOL" },
	{ 0x000000D1, "DRIVER_IRQL_NOT_LESS_OR_EQUAL" },
	{ 0x000000D3, "DRIVER_PORTION_MUST_BE_NONPAGED" },
	{ 0x000000D5, "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL" },
	{ 0x000000D6, "DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION" },
	{ 0x000000D8, "DRIVER_USED_EXCESSIVE_PTES" },
	{ 0x000000DA, "SYSTEM_PTE_MISUSE" },
	{ 0x000000DB, "DRIVER_CORRUPTED_SYSPTES" },
	{ 0x000000DE, "POOL_CORRUPTION_IN_FILE_AREA" },
	{ 0x000000E0, "ACPI_BIOS_FATAL_ERROR" },
	{ 0x000000E1, "WORKER_THREAD_RETURNED_AT_BAD_IRQL" },
	{ 0x000000E2, "MANUALLY_INITIATED_CRASH" },
	{ 0x000000E3, "RESOURCE_NOT_OWNED" },
	{ 0x000000E6, "DRIVER_VERIFIER_DMA_VIOLATION" },
	{ 0x000000E7, "INVALID_FLOATING_POINT_STATE" },
	{ 0x000000EA, "THREAD_STUCK_IN_DEVICE_DRIVER" },
	{ 0x000000ED, "UNMOUNTABLE_BOOT_VOLUME" },
	{ 0x000000EF, "CRITICAL_PROCESS_DIED" },
	{ 0x000000F0, "STORAGE_MINIPORT_ERROR" },
	{ 0x000000F1, "SCSI_VERIFIER_DETECTED_VIOLATION" },
	{ 0x000000F2, "HARDWARE_INTERRUPT_STORM" },
	{ 0x000000F4, "CRITICAL_OBJECT_TERMINATION" },
	{ 0x000000F5, "FLTMGR_FILE_SYSTEM" },
	{ 0x000000F6, "PCI_VERIFIER_DETECTED_VIOLATION" },
	{ 0x000000F7, "DRIVER_OVERRAN_STACK_BUFFER" },
	{ 0x000000FC, "ATTEMPTED_EXECUTE_OF_NOEXECUTE_MEMORY" },
	{ 0x000000FE, "BUGCODE_USB_DRIVER" },
	{ 0x00000101, "CLOCK_WATCHDOG_TIMEOUT" },
	{ 0x00000102, "DPC_WATCHDOG_TIMEOUT" },
	{ 0x00000109, "CRITICAL_STRUCTURE_CORRUPTION" },
	{ 0x0000010D, "WDF_VIOLATION" },
	{ 0x0000010E, "VIDEO_MEMORY_MANAGEMENT_INTERNAL" },
	{ 0x00000111, "RECURSIVE_NMI" },
	{ 0x00000113, "VIDEO_DXGKRNL_FATAL_ERROR" },
	{ 0x00000116, "VIDEO_TDR_FAILURE" },
	{ 0x00000117, "VIDEO_TDR_TIMEOUT_DETECTED" },
	{ 0x00000119, "VIDEO_SCHEDULER_INTERNAL_ERROR" },
	{ 0x0000011B, "DRIVER_RETURNED_HOLDING_CANCEL_LOCK" },
	{ 0x0000011E, "TOO_MANY_RECURSIVE_FAULTS" },
	{ 0x00000122, "WHEA_INTERNAL_ERROR" },
	{ 0x00000124, "WHEA_UNCORRECTABLE_ERROR" },
	{ 0x00000127, "PAGE_NOT_ZERO" },
	{ 0x0000012B, "FAULTY_HARDWARE_CORRUPTED_PAGE" },
	{ 0x0000012E, "INVALID_MDL_RANGE" },
	{ 0x00000130, "DYNAMIC_ADD_PROCESSOR_MISMATCH" },
	{ 0x00000131, "INVALID_EXTENDED_PROCESSOR_STATE" },
	{ 0x00000133, "DPC_WATCHDOG_VIOLATION" },
	{ 0x00000139, "KERNEL_SECURITY_CHECK_FAILURE" },
	{ 0x0000013A, "KERNEL_MODE_HEAP_CORRUPTION" },
	{ 0x0000013D, "CRITICAL_INITIALIZATION_FAILURE" },
	{ 0x00000140, "STORAGE_DEVICE_ABNORMALITY_DETECTED" },
	{ 0x00000141, "VIDEO_ENGINE_TIMEOUT_DETECTED" },
	{ 0x00000144, "BUGCODE_USB3_DRIVER" },
	{ 0x00000149, "REFS_FILE_SYSTEM" },
	{ 0x0000014F, "PDC_WATCHDOG_TIMEOUT" },
	{ 0x00000154, "UNEXPECTED_STORE_EXCEPTION" },
	{ 0x00000157, "KERNEL_THREAD_PRIORITY_FLOOR_VIOLATION" },
	{ 0x00000160, "WIN32K_ATOMIC_CHECK_FAILURE" },
	{ 0x00000161, "LIVE_SYSTEM_DUMP" },
	{ 0x00000164, "WIN32K_CRITICAL_FAILURE" },
	{ 0x00000189, "BAD_OBJECT_HEADER" },
	{ 0x0000018B, "SECURE_KERNEL_ERROR" },
	{ 0x0000018C, "HYPERGUARD_VIOLATION" },
	{ 0x0000018D, "SECURE_FAULT_UNHANDLED" },
	{ 0x00000191, "PF_DETECTED_CORRUPTION" },
	{ 0x000001C7, "STORE_DATA_STRUCTURE_CORRUPTION" },
	{ 0x000001C8, "MANUALLY_INITIATED_POWER_BUTTON_HOLD" },
	{ 0x000001CA, "SYNTHETIC_WATCHDOG_TIMEOUT" },
	{ 0x000001CF, "HARDWARE_WATCHDOG_TIMEOUT" },
	{ 0x000001DB, "IPI_WATCHDOG_TIMEOUT" },
	{ 0x00020001, "HYPERVISOR_ERROR" },
	{ 0x1000007E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M" },
	{ 0x1000007F, "UNEXPECTED_KERNEL_MODE_TRAP_M" },
	{ 0x1000008E, "KERNEL_MODE_EXCEPTION_NOT_HANDLED_M" },
	{ 0x100000EA, "THREAD_STUCK_IN_DEVICE_DRIVER_M" },
	{ 0xC0000218, "STATUS_CANNOT_LOAD_REGISTRY_FILE" },
	{ 0xC000021A, "STATUS_SYSTEM_PROCESS_TERMINATED" },
	{ 0xC0000221, "STATUS_IMAGE_CHECKSUM_MISMATCH" },
	{ 0xDEADDEAD, "MANUALLY_INITIATED_CRASH1" },
};
#define N_STOPCODES	(sizeof stopcodes / sizeof stopcodes[0])

static int
stopcode_cmp(const void *key, const void *elem)
{
	uint64_t			 code = *(const uint64_t *)key;
	const struct stopcode		*s = elem;

	return code < s->code ? -1 : code > s->code;
}

const char *
stopcode_name(uint64_t code)
{
	const struct stopcode	*s;

	s = bsearch(&code, stopcodes, N_STOPCODES, sizeof stopcodes[0],
	    stopcode_cmp);
	return s != NULL ? s->name : NULL;
}

int
stopcode_from_name(const char *name, uint64_t *code)
{
	size_t	i;

	/* Rare (a console line naming its code), so no second index. */
	for (i = 0; i < N_STOPCODES; i++)
		if (strcmp(stopcodes[i].name, name) == 0) {
			*code = stopcodes[i].code;
			return 0;
		}
	return -1;
}

void
stopcode_title(uint64_t code, char *buf, size_t size)
{
	const char	*name = stopcode_name(code);

	/* Upper-case digits, as Windows prints codes. */
	snprintf(buf, size, "STOP 0x%08llX%s%s", (unsigned long long)code,
	    name != NULL ? " " : "", name != NULL ? name : "");
}

/* An argument QEMU sends as a uint64; -1 when it is missing or no such value. */
static int
panic_arg(const json_t *info, const char *key, uint64_t *v)
{
	const json_t	*j = json_object_get(info, key);
	const char	*s;
	char		*end;

	/*
	 * jansson holds integers as json_int_t: a negative one is not a
	 * uint64 QEMU sent. One above INT64_MAX (a kernel address) reaches
	 * here as the decimal string the QMP reader made of it.
	 */
	if (json_is_string(j)) {
		s = json_string_value(j);
		if (*s < '0' || *s > '9')
			return -1;
		errno = 0;
		*v = strtoull(s, &end, 10);
		return errno != 0 || *end != '\0' ? -1 : 0;
	}
	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return -1;
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

/* Adds the hyper-v detail of info to o; -1 when out of memory. */
static int
panic_hyperv(json_t *o, const json_t *info)
{
	static const char *const params[] = { "arg2", "arg3", "arg4", "arg5" };
	json_t		*list;
	const char	*name = NULL;
	char		 buf[STOPCODE_TITLE_MAX];
	uint64_t	 code = 0, v;
	size_t		 i;
	int		 have_code;

	/* arg1 is the bug-check code, arg2..arg5 its four parameters. */
	have_code = panic_arg(info, "arg1", &code) == 0;
	if (have_code) {
		name = stopcode_name(code);
		snprintf(buf, sizeof buf, "0x%08llX", (unsigned long long)code);
		if (json_object_set_new(o, "stop_code", json_string(buf)) == -1)
			return -1;
	} else if (json_object_set_new(o, "stop_code", json_null()) == -1)
		return -1;
	if (json_object_set_new(o, "stop_name", name != NULL ?
	    json_string(name) : json_null()) == -1)
		return -1;
	if ((list = json_array()) == NULL ||
	    json_object_set_new(o, "parameters", list) == -1)
		return -1;
	for (i = 0; i < sizeof params / sizeof params[0]; i++) {
		if (panic_arg(info, params[i], &v) == 0) {
			snprintf(buf, sizeof buf, "0x%016llX",
			    (unsigned long long)v);
			if (json_array_append_new(list, json_string(buf)) == -1)
				return -1;
		} else if (json_array_append_new(list, json_null()) == -1)
			return -1;
	}
	if (have_code)
		stopcode_title(code, buf, sizeof buf);
	else
		snprintf(buf, sizeof buf, "STOP (code not given)");
	return json_object_set_new(o, "title", json_string(buf));
}

json_t *
stopcode_panic_detail(const json_t *data)
{
	const json_t	*action, *info, *type;
	json_t		*o;

	if ((o = json_object()) == NULL)
		return NULL;
	action = json_object_get(data, "action");
	if (json_object_set_new(o, "action", json_is_string(action) ?
	    json_string(json_string_value(action)) : json_null()) == -1)
		goto fail;
	info = json_object_get(data, "info");
	type = json_object_get(info, "type");
	if (!json_is_object(info) || !json_is_string(type))
		return o;
	if (json_object_set_new(o, "info_type",
	    json_string(json_string_value(type))) == -1)
		goto fail;
	if (strcmp(json_string_value(type), "hyper-v") == 0 &&
	    panic_hyperv(o, info) == -1)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}
