  import { Namespace, Context } from "@ory/keto-namespace-types"

  class User implements Namespace {}

  class Document implements Namespace {
    related: {
      owners: User[]
      editors: User[]
      viewers: User[]
      parents: Folder[]
    }

    permits = {
      view: (ctx: Context): boolean =>
        this.related.viewers.includes(ctx.subject) ||
        this.related.editors.includes(ctx.subject) ||
        this.related.owners.includes(ctx.subject) ||
        this.related.parents.traverse((parent) => parent.permits.view(ctx)),
      //highlight-start
      edit: (ctx: Context): boolean =>
        this.related.editors.includes(ctx.subject) ||
        this.related.owners.includes(ctx.subject) ||
        this.related.parents.traverse((parent) => parent.permits.edit(ctx)),
      delete: (ctx: Context): boolean =>
        this.related.owners.includes(ctx.subject) || this.related.parents.traverse((parent) => parent.permits.delete(ctx)),
      share: (ctx: Context): boolean =>
        this.related.owners.includes(ctx.subject) || this.related.parents.traverse((parent) => parent.permits.share(ctx)),
      //highlight-end
    }
  }

  class Folder implements Namespace {
    related: {
      owners: User[]
      editors: User[]
      viewers: User[]
      parents: Folder[]
    }

    //highlight-start
    permits = {
      delete: (ctx: Context): boolean =>
        this.related.owners.includes(ctx.subject) || this.related.parents.traverse((parent) => parent.permits.delete(ctx)),
      share: (ctx: Context): boolean =>
        this.related.owners.includes(ctx.subject) || this.related.parents.traverse((parent) => parent.permits.share(ctx)),
    }
    //highlight-end
  }
  