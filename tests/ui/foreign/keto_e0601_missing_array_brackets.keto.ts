import { Namespace, Context } from "@ory/keto-namespace-types"

class User implements Namespace {}

class Document implements Namespace {
  related: {
    viewers: User //~ E0601
    owners: User[]
  }
}
