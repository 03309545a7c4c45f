// SPDX-License-Identifier: GPL-2.0
/*
 * The pseudo filesystem whose inodes back regions. A private inode (not
 * the shared anon inode) gives each region its own address_space, so its
 * pages have a valid mapping and index: folio_mkclean() and
 * unmap_mapping_pages() can then find every PTE that maps them, in the
 * guest view and in the transfer view alike.
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

static struct vfsmount *rdmig_mnt;

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
	.name = "rdmig",
	.init_fs_context = rdmig_init_fs_context,
	.kill_sb = kill_anon_super,
};

struct inode *rdmig_fs_alloc_inode(void)
{
	struct inode *inode = alloc_anon_inode(rdmig_mnt->mnt_sb);

	if (IS_ERR(inode))
		return inode;
	/* A regular file, so generic_error_remove_page() may punch pages. */
	inode->i_mode |= S_IFREG;
	inode->i_mapping->a_ops = &rdmig_aops;
	mapping_set_gfp_mask(inode->i_mapping, GFP_HIGHUSER_MOVABLE);
	mapping_set_unevictable(inode->i_mapping);
	return inode;
}

/* A new file on @inode; consumes one inode reference, even on failure. */
struct file *rdmig_fs_file(struct inode *inode, const char *name,
			   const struct file_operations *fops)
{
	struct file *file;

	/* __fput() drops the fops owner; alloc_file_pseudo() does not take it. */
	if (!try_module_get(fops->owner)) {
		iput(inode);
		return ERR_PTR(-ENOENT);
	}
	file = alloc_file_pseudo(inode, rdmig_mnt, name, O_RDWR, fops);
	if (IS_ERR(file)) {
		module_put(fops->owner);
		iput(inode);
		return file;
	}
	file->f_mode |= FMODE_PREAD;
	return file;
}

int rdmig_fs_init(void)
{
	rdmig_mnt = kern_mount(&rdmig_fs_type);
	if (IS_ERR(rdmig_mnt))
		return PTR_ERR(rdmig_mnt);
	/* Guest RAM is data: no PROT_EXEC through the region fds either. */
	rdmig_mnt->mnt_flags |= MNT_NOEXEC;
	return 0;
}

void rdmig_fs_exit(void)
{
	kern_unmount(rdmig_mnt);
}
