// SPDX-License-Identifier: GPL-2.0
/*
 * The pseudo filesystem whose inodes back regions. A private inode (not
 * the shared anon inode) gives each region its own address_space, so its
 * pages have a valid mapping and index: folio_mkclean() and
 * unmap_mapping_pages() can then find every PTE that maps them, in the
 * guest view and in the transfer view alike.
 *
 * Module lifetime. Each region gets its own internal mount and superblock,
 * and the superblock holds the module (file_system_type.owner): a file's
 * fops reference is dropped in __fput() before dput() evicts the inode,
 * which still runs this module's evict_inode and a_ops, but the file's
 * mount reference goes only after that, and with it the superblock and
 * the module reference. Every holder of a region inode reference also
 * holds the superblock (files through their mount, netlink lookups through
 * rdmig_fs_igrab()) and drops it after the inode, so no superblock is shut
 * down with a region inode still in use, and the code that evicts runs
 * while the module is held. No mount outlives the last region, so module
 * exit has none to tear down.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/migrate.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/pseudo_fs.h>

#include "region_priv.h"

#define RDMIG_FS_MAGIC	0x72646d67	/* "rdmg" */

/*
 * A poisoned page stays in the page cache so that every later access gets
 * SIGBUS; dropping it would silently turn guest memory into zeroes.
 */
static int rdmig_error_remove_page(struct address_space *mapping,
				   struct page *page)
{
	return 0;
}

/*
 * set_page_dirty() is how writers that went through get_user_pages report
 * a write: the region's DIRTY bits take it (rdmig_region_dirty_folio()).
 * PG_dirty itself is never set, as nothing writes a region back, so this
 * never changes the folio's dirty flag and says so.
 */
static bool rdmig_dirty_folio(struct address_space *mapping,
			      struct folio *folio)
{
	struct rdmig_region *r = rdmig_region_of(mapping->host);

	if (r)
		rdmig_region_dirty_folio(r, folio);
	return false;
}

/*
 * No backing store, and the mapping is unevictable so reclaim never tries
 * to write a page back. Pages may migrate; the state is kept by index.
 */
static const struct address_space_operations rdmig_aops = {
	.dirty_folio = rdmig_dirty_folio,
	.migrate_folio = migrate_folio,
	.error_remove_page = rdmig_error_remove_page,
};

/*
 * Guest RAM does not change size: truncating would drop guest pages
 * behind the VMM's back and leave the region's bitmaps describing pages
 * that are gone, growing would make mappings past the region possible.
 * -EINVAL, as secretmem and guest_memfd answer. Mode and owner changes
 * are ordinary.
 */
static int rdmig_setattr(struct user_namespace *mnt_userns,
			 struct dentry *dentry, struct iattr *attr)
{
	if (attr->ia_valid & ATTR_SIZE)
		return -EINVAL;
	return simple_setattr(mnt_userns, dentry, attr);
}

static const struct inode_operations rdmig_iops = {
	.setattr = rdmig_setattr,
};

static void rdmig_evict_inode(struct inode *inode)
{
	struct rdmig_region *r = rdmig_region_of(inode);

	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	if (r)
		rdmig_region_evict(r);
}

static const struct super_operations rdmig_sops = {
	.statfs = simple_statfs,
	.evict_inode = rdmig_evict_inode,
};

static int rdmig_init_fs_context(struct fs_context *fc)
{
	struct pseudo_fs_context *ctx = init_pseudo(fc, RDMIG_FS_MAGIC);

	if (!ctx)
		return -ENOMEM;
	ctx->ops = &rdmig_sops;
	return 0;
}

static struct file_system_type rdmig_fs_type = {
	.owner = THIS_MODULE,
	.name = "rdmig",
	.init_fs_context = rdmig_init_fs_context,
	.kill_sb = kill_anon_super,
};

static struct vfsmount *rdmig_fs_mnt(struct inode *inode)
{
	return inode->i_sb->s_fs_info;
}

/*
 * A new inode on a new mount of its own; the inode reference returned
 * comes with the mount's reference (see the top of this file).
 */
struct inode *rdmig_fs_alloc_inode(void)
{
	struct vfsmount *mnt;
	struct inode *inode;

	mnt = vfs_kern_mount(&rdmig_fs_type, SB_KERNMOUNT, rdmig_fs_type.name,
			     NULL);
	if (IS_ERR(mnt))
		return ERR_CAST(mnt);
	/* Guest RAM is data: no PROT_EXEC through the region fds either. */
	mnt->mnt_flags |= MNT_NOEXEC;
	mnt->mnt_sb->s_fs_info = mnt;
	inode = alloc_anon_inode(mnt->mnt_sb);
	if (IS_ERR(inode)) {
		mntput(mnt);
		return inode;
	}
	/* A regular file, so generic_error_remove_page() may punch pages. */
	inode->i_mode |= S_IFREG;
	inode->i_op = &rdmig_iops;
	/* What open() of /proc/<pid>/fd/<n> gets: see rdmig_guest_open(). */
	inode->i_fop = &rdmig_guest_fops;
	inode->i_mapping->a_ops = &rdmig_aops;
	mapping_set_gfp_mask(inode->i_mapping, GFP_HIGHUSER_MOVABLE);
	mapping_set_unevictable(inode->i_mapping);
	return inode;
}

/*
 * Another reference to a region inode the caller holds a file of, with a
 * mount reference, for rdmig_fs_file().
 */
void rdmig_fs_ihold(struct inode *inode)
{
	ihold(inode);
	mntget(rdmig_fs_mnt(inode));
}

/*
 * A reference to a region inode that may be going away, for netlink
 * lookups (under the region list's lock, so the inode's memory is still
 * there). It comes with an active reference to the superblock rather than
 * a mount one: taking it first, and only if the superblock is still
 * active, is what makes the pair safe against the last file going away
 * in between.
 */
bool rdmig_fs_igrab(struct inode *inode)
{
	struct super_block *sb = inode->i_sb;

	if (!atomic_inc_not_zero(&sb->s_active))
		return false;
	if (igrab(inode))
		return true;
	/*
	 * Being evicted: whoever evicts it still holds the superblock (the
	 * inode goes before its companion reference), so ours is not the
	 * last and may be dropped here, under a spinlock.
	 */
	WARN_ON_ONCE(atomic_dec_and_test(&sb->s_active));
	return false;
}

/*
 * Drops what rdmig_fs_igrab() took, the inode first: its eviction runs
 * this module's code, which the superblock holds in memory.
 */
void rdmig_fs_iput(struct inode *inode)
{
	struct super_block *sb = inode->i_sb;

	iput(inode);
	deactivate_super(sb);
}

/* Drops an inode reference and the mount reference that comes with it. */
static void rdmig_fs_iput_mnt(struct inode *inode)
{
	struct vfsmount *mnt = rdmig_fs_mnt(inode);

	iput(inode);
	mntput(mnt);
}

/*
 * A new file on @inode; consumes one inode reference and the mount
 * reference that comes with it, even on failure.
 */
struct file *rdmig_fs_file(struct inode *inode, const char *name,
			   const struct file_operations *fops)
{
	struct vfsmount *mnt = rdmig_fs_mnt(inode);
	struct file *file;

	/* __fput() drops the fops owner; alloc_file_pseudo() does not take it. */
	if (!try_module_get(fops->owner)) {
		rdmig_fs_iput_mnt(inode);
		return ERR_PTR(-ENOENT);
	}
	file = alloc_file_pseudo(inode, mnt, name, O_RDWR, fops);
	if (IS_ERR(file)) {
		module_put(fops->owner);
		rdmig_fs_iput_mnt(inode);
		return file;
	}
	mntput(mnt);	/* the file holds one of its own */
	/* As open() would give it: pread() and pwrite() (EINVAL) allowed. */
	file->f_mode |= FMODE_PREAD | FMODE_PWRITE;
	/* Which view this dentry was made for, for a later reopen. */
	file->f_path.dentry->d_fsdata = (void *)fops;
	return file;
}
