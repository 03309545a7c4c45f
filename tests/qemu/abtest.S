/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rdmig QEMU test guest: one 512-byte boot sector, this project's own
 * (not QEMU's migration-test one). Assembled twice (tests/qemu/qemu.mk):
 *
 *   abtest.img  increments the first byte of every 4 KiB page from 1 MiB
 *               to the top of RAM below 4 GiB, in page order, forever;
 *   idle.img    (IDLE defined) writes nothing above 1 MiB: it halts with
 *               the timer ticking.
 *
 * Memory copied at any instant therefore shows one run of value v + 1 then
 * one run of v (the abtest rule, checked by tests/qemu/abtest_check.c with
 * user/vmm/abtest.c); after a migration the destination's copy must too.
 *
 * Pace. A guest that dirties faster than the link moves never converges,
 * so the loop can wait for the timer: after every PAGES_PER_TICK pages it
 * halts until the next PIT interrupt (PIT channel 0, rate generator,
 * 1193182 / PIT_DIVISOR Hz). The parameters live in the image itself, at
 * fixed offsets the tests patch (qemu-lib.sh: qemu_image), little endian:
 *
 *   0x1f0  4 bytes  magic "RDAB"
 *   0x1f4  u32      PAGES_PER_TICK   0: never wait (as fast as it runs)
 *   0x1f8  u16      PIT_DIVISOR      default 11932 (100 Hz); 0 = 65536
 *   0x1fa  u16      TOP_MIB          top of RAM in MiB; 0: from the CMOS
 *   0x1fc  u16      reserved (0)
 *   0x1fe           0x55 0xaa
 *
 * Defaults: 10 pages a tick at 100 Hz, 1000 pages/s (~4 MB/s).
 * Top of RAM from the CMOS as QEMU's pc machines fill it: 0x34/0x35 count
 * 64 KiB above 16 MiB (RAM below 4 GiB), 0x30/0x31 KiB above 1 MiB when
 * there are less than 16 MiB.
 *
 * A first fast pass sets every page's byte to 0: the firmware leaves its
 * tables near the top of RAM, which would otherwise start the rule broken.
 * From then on it increments (never stores a value), so a page that is ever
 * wrong stays wrong: a lost update is not healed by the next pass. ECX
 * counts passes, so a page's byte is its pass count mod 256. Register
 * use, for a test that reads them (HMP
 * "info registers"): where QEMU stops the vCPU (between translation
 * blocks), EBX is the guest-physical address of the next page to write,
 * CL the value pages below it hold (those from EBX on hold CL - 1), EDI
 * the top of RAM.
 *
 * COM1 gets "rdmig-abtest\n" once the rule holds (after a first pass
 * clearing every page's byte) or "rdmig-idle\n" as the loop starts; a
 * CPU exception prints "!" and stops the CPU (cli; hlt).
 */
	.code16
	.text
	.globl _start
_start:
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x7c00, %sp
	ljmp	$0, $norm		/* the BIOS may enter at 07c0:0000 */
norm:
	/* A20 through the system control port (fast A20), no reset bit. */
	in	$0x92, %al
	or	$0x02, %al
	and	$0xfe, %al
	out	%al, $0x92

	lgdt	gdt_desc
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	ljmpl	$0x08, $pm32

	.code32
pm32:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %fs
	mov	%ax, %gs
	mov	%ax, %ss
	mov	$0x7c00, %esp

	/* IDT at 0x1000: 0..0x1f fault, 0x20 tick, 0x21..0x2f spurious. */
	mov	$0x1000, %edi
	xor	%ecx, %ecx
idt_fill:
	mov	$fault, %eax
	cmp	$0x20, %ecx
	jb	1f
	mov	$tick, %eax
	je	1f
	mov	$spurious, %eax
1:	mov	%ax, (%edi)		/* offset 15:0 (handlers are below 64 KiB) */
	movl	$0x8e000008, 2(%edi)	/* selector 8, 32-bit interrupt gate */
	movw	$0, 6(%edi)		/* offset 31:16 */
	add	$8, %edi
	inc	%ecx
	cmp	$0x30, %ecx
	jb	idt_fill
	lidt	idt_desc

	/* PICs: master to vectors 0x20.., only IRQ0 unmasked; slave masked. */
	mov	$pic_init, %esi
	mov	$(pic_init_end - pic_init) / 2, %ecx
pic_loop:
	lodsw				/* al = port, ah = value */
	movzbw	%al, %dx
	mov	%ah, %al
	out	%al, %dx
	loop	pic_loop

	/* PIT channel 0, mode 2, lobyte/hibyte. */
	mov	$0x34, %al
	out	%al, $0x43
	mov	pit_divisor, %ax
	out	%al, $0x40
	mov	%ah, %al
	out	%al, $0x40

	/* Top of RAM into EDI. */
	movzwl	top_mib, %edi
	shl	$20, %edi
	jnz	have_top
	mov	$0x35, %al
	call	cmos
	mov	%al, %ah
	mov	$0x34, %al
	call	cmos
	movzwl	%ax, %edi
	shl	$16, %edi
	jz	small
	add	$0x1000000, %edi
	jmp	have_top
small:
	mov	$0x31, %al
	call	cmos
	mov	%al, %ah
	mov	$0x30, %al
	call	cmos
	movzwl	%ax, %edi
	shl	$10, %edi
	add	$0x100000, %edi
have_top:
	and	$0xfffff000, %edi

#ifdef IDLE
	mov	$banner, %esi
	call	puts
idle:
	sti
	hlt
	jmp	idle
#else
	/*
	 * The firmware left tables near the top of RAM: clear the first
	 * byte of every page at once so the rule holds from the first pass.
	 */
	mov	$0x100000, %ebx
0:	movb	$0, (%ebx)
	add	$0x1000, %ebx
	cmp	%edi, %ebx
	jb	0b
	mov	$banner, %esi		/* the rule holds from here on */
	call	puts

	mov	pages_per_tick, %ebp
	mov	%ebp, %edx
	xor	%ecx, %ecx
restart:
	inc	%ecx			/* cl: the pass, what its pages become */
	mov	$0x100000, %ebx
next:
	incb	(%ebx)
	add	$0x1000, %ebx
	test	%ebp, %ebp
	jz	1f
	dec	%edx
	jnz	1f
	mov	%ebp, %edx
	sti				/* takes effect after hlt starts: no lost wake-up */
	hlt
	cli
1:	cmp	%edi, %ebx
	jb	next
	jmp	restart
#endif

/* al = CMOS register -> al = its value (NMI stays enabled). */
cmos:
	out	%al, $0x70
	in	$0x71, %al
	ret

/* Writes the NUL-terminated string at esi to COM1 (QEMU's UART needs no set-up). */
puts:
	mov	$0x3f8, %dx
1:	lodsb
	test	%al, %al
	jz	2f
	out	%al, %dx
	jmp	1b
2:	ret

tick:
	push	%eax
	mov	$0x20, %al		/* EOI to the master PIC */
	out	%al, $0x20
	pop	%eax
	iret

spurious:
	iret

fault:
	mov	$0x3f8, %dx
	mov	$'!', %al
	out	%al, %dx
3:	cli
	hlt
	jmp	3b

pic_init:				/* port, value */
	.byte	0x20, 0x11, 0x21, 0x20, 0x21, 0x04, 0x21, 0x01
	.byte	0xa0, 0x11, 0xa1, 0x28, 0xa1, 0x02, 0xa1, 0x01
	.byte	0x21, 0xfe, 0xa1, 0xff
pic_init_end:

#ifdef IDLE
banner:	.asciz	"rdmig-idle\n"
#else
banner:	.asciz	"rdmig-abtest\n"
#endif

	.p2align 3
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x08: code, flat 4 GiB, 32-bit */
	.quad	0x00cf92000000ffff	/* 0x10: data, flat 4 GiB */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt
idt_desc:
	.word	0x30 * 8 - 1
	.long	0x1000

	.org	0x1f0
	.ascii	"RDAB"
pages_per_tick:
	.long	10
pit_divisor:
	.word	11932
top_mib:
	.word	0
	.word	0
	.byte	0x55, 0xaa
