#include <linux/module.h>
#define INCLUDE_VERMAGIC
#include <linux/build-salt.h>
#include <linux/elfnote-lto.h>
#include <linux/export-internal.h>
#include <linux/vermagic.h>
#include <linux/compiler.h>

BUILD_SALT;
BUILD_LTO_INFO;

MODULE_INFO(vermagic, VERMAGIC_STRING);
MODULE_INFO(name, KBUILD_MODNAME);

__visible struct module __this_module
__section(".gnu.linkonce.this_module") = {
	.name = KBUILD_MODNAME,
	.init = init_module,
#ifdef CONFIG_MODULE_UNLOAD
	.exit = cleanup_module,
#endif
	.arch = MODULE_ARCH_INIT,
};

#ifdef CONFIG_RETPOLINE
MODULE_INFO(retpoline, "Y");
#endif

SYMBOL_CRC(ioreq_provider_register, 0x8ed65ba1, "_gpl");
SYMBOL_CRC(ioreq_provider_unregister, 0x3546a0d9, "_gpl");
SYMBOL_CRC(ioreq_guest_create, 0xf875823d, "_gpl");
SYMBOL_CRC(ioreq_guest_get, 0x1f528c55, "_gpl");
SYMBOL_CRC(ioreq_guest_put, 0xedb9746d, "_gpl");
SYMBOL_CRC(ioreq_guest_kill, 0x6d766aaa, "_gpl");
SYMBOL_CRC(ioreq_guest_priv, 0xa56e6048, "_gpl");
SYMBOL_CRC(ioreq_guest_id, 0xe8613fb1, "_gpl");
SYMBOL_CRC(ioreq_guest_nr_vcpus, 0x372d0594, "_gpl");
SYMBOL_CRC(ioreq_dispatch, 0xf398c821, "_gpl");
SYMBOL_CRC(ioreq_cancel, 0x3f3914f7, "_gpl");

static const struct modversion_info ____versions[]
__used __section("__versions") = {
	{ 0xe20e4455, "try_module_get" },
	{ 0x88db9f48, "__check_object_size" },
	{ 0x47978cc, "misc_deregister" },
	{ 0x551bd071, "__rb_erase_color" },
	{ 0x91c14d8d, "param_ops_uint" },
	{ 0x13c49cc2, "_copy_from_user" },
	{ 0xca9360b5, "rb_next" },
	{ 0x92540fbf, "finish_wait" },
	{ 0xbfc1d1a, "check_zeroed_user" },
	{ 0x37a0cba, "kfree" },
	{ 0x8c26d495, "prepare_to_wait_event" },
	{ 0xe2964344, "__wake_up" },
	{ 0x34db050b, "_raw_spin_lock_irqsave" },
	{ 0xba8fbd64, "_raw_spin_lock" },
	{ 0xbdfb6dbb, "__fentry__" },
	{ 0x65487097, "__x86_indirect_thunk_rax" },
	{ 0x1000e51, "schedule" },
	{ 0xa19b956, "__stack_chk_fail" },
	{ 0x296695f, "refcount_warn_saturate" },
	{ 0x7682ba4e, "__copy_overflow" },
	{ 0xa59b97f5, "module_put" },
	{ 0x3ef022ec, "compat_ptr_ioctl" },
	{ 0x9114b616, "__xa_alloc" },
	{ 0xfe487975, "init_wait_entry" },
	{ 0x68f31cbd, "__list_add_valid" },
	{ 0x4dfa8d4b, "mutex_lock" },
	{ 0x120b336a, "__rb_insert_augmented" },
	{ 0xe1537255, "__list_del_entry_valid" },
	{ 0xcefb0c9f, "__mutex_init" },
	{ 0xd35cce70, "_raw_spin_unlock_irqrestore" },
	{ 0xfb578fc5, "memset" },
	{ 0x844c8938, "misc_register" },
	{ 0x5b8239ca, "__x86_return_thunk" },
	{ 0x6b10bee1, "_copy_to_user" },
	{ 0xd9a5ea54, "__init_waitqueue_head" },
	{ 0x241276ff, "nonseekable_open" },
	{ 0x745a981, "xa_erase" },
	{ 0x3213f038, "mutex_unlock" },
	{ 0xd9491c14, "xa_destroy" },
	{ 0x8fa25c24, "xa_find" },
	{ 0x6729d3df, "__get_user_4" },
	{ 0xdf36914b, "xa_find_after" },
	{ 0x606e9d01, "kmalloc_trace" },
	{ 0xb5b54b34, "_raw_spin_unlock" },
	{ 0xf90a1e85, "__x86_indirect_thunk_r8" },
	{ 0xeb233a45, "__kmalloc" },
	{ 0xe2c17b5d, "__SCT__might_resched" },
	{ 0x7a7caba8, "kmalloc_caches" },
	{ 0x9060323f, "module_layout" },
};

MODULE_INFO(depends, "");

