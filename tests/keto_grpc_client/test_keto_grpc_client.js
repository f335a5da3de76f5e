// zanzi serve driven by Ory's official Node gRPC client (@ory/keto-grpc-client),
// unchanged. run.sh starts the server and sets KETO_READ_ADDR, KETO_WRITE_ADDR
// and KETO_SYNTAX_ADDR (host:port).
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const grpc = require('@grpc/grpc-js')

const base = '@ory/keto-grpc-client/ory/keto'
const rts = require(`${base}/relation_tuples/v1alpha2/relation_tuples_pb.js`)
const check = require(`${base}/relation_tuples/v1alpha2/check_service_pb.js`)
const checkService = require(`${base}/relation_tuples/v1alpha2/check_service_grpc_pb.js`)
const write = require(`${base}/relation_tuples/v1alpha2/write_service_pb.js`)
const writeService = require(`${base}/relation_tuples/v1alpha2/write_service_grpc_pb.js`)
const read = require(`${base}/relation_tuples/v1alpha2/read_service_pb.js`)
const readService = require(`${base}/relation_tuples/v1alpha2/read_service_grpc_pb.js`)
const expand = require(`${base}/relation_tuples/v1alpha2/expand_service_pb.js`)
const expandService = require(`${base}/relation_tuples/v1alpha2/expand_service_grpc_pb.js`)
const namespaces = require(`${base}/relation_tuples/v1alpha2/namespaces_service_pb.js`)
const namespacesService = require(`${base}/relation_tuples/v1alpha2/namespaces_service_grpc_pb.js`)
const version = require(`${base}/relation_tuples/v1alpha2/version_pb.js`)
const versionService = require(`${base}/relation_tuples/v1alpha2/version_grpc_pb.js`)
const syntax = require(`${base}/opl/v1alpha1/syntax_service_pb.js`)
const syntaxService = require(`${base}/opl/v1alpha1/syntax_service_grpc_pb.js`)

const insecure = grpc.credentials.createInsecure()
const READ = process.env.KETO_READ_ADDR
const WRITE = process.env.KETO_WRITE_ADDR
const SYNTAX = process.env.KETO_SYNTAX_ADDR

const clients = {
  check: new checkService.CheckServiceClient(READ, insecure),
  read: new readService.ReadServiceClient(READ, insecure),
  expand: new expandService.ExpandServiceClient(READ, insecure),
  namespaces: new namespacesService.NamespacesServiceClient(READ, insecure),
  version: new versionService.VersionServiceClient(READ, insecure),
  write: new writeService.WriteServiceClient(WRITE, insecure),
  syntax: new syntaxService.SyntaxServiceClient(SYNTAX, insecure),
}

/** Calls a unary method and resolves with its answer. */
function call (client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, (error, answer) => (error ? reject(error) : resolve(answer)))
  })
}

function fresh (prefix) {
  return `${prefix}-${crypto.randomBytes(4).toString('hex')}`
}

function subjectId (id) {
  const s = new rts.Subject()
  s.setId(id)
  return s
}

function subjectSet (namespace, object, relation) {
  const set = new rts.SubjectSet()
  set.setNamespace(namespace)
  set.setObject(object)
  set.setRelation(relation)
  const s = new rts.Subject()
  s.setSet(set)
  return s
}

function tuple (namespace, object, relation, subject) {
  const t = new rts.RelationTuple()
  t.setNamespace(namespace)
  t.setObject(object)
  t.setRelation(relation)
  t.setSubject(subject)
  return t
}

function delta (action, t) {
  const d = new write.RelationTupleDelta()
  d.setAction(action)
  d.setRelationTuple(t)
  return d
}

const INSERT = write.RelationTupleDelta.Action.ACTION_INSERT
const DELETE = write.RelationTupleDelta.Action.ACTION_DELETE

async function transact (...deltas) {
  const request = new write.TransactRelationTuplesRequest()
  request.setRelationTupleDeltasList(deltas)
  return call(clients.write, 'transactRelationTuples', request)
}

async function allowed (t, snaptoken) {
  const request = new check.CheckRequest()
  request.setTuple(t)
  if (snaptoken) request.setSnaptoken(snaptoken)
  const answer = await call(clients.check, 'check', request)
  return answer.getAllowed()
}

async function listAll (query, pageSize) {
  const seen = []
  let pageToken = ''
  let pages = 0
  do {
    const request = new read.ListRelationTuplesRequest()
    request.setRelationQuery(query)
    request.setPageSize(pageSize)
    request.setPageToken(pageToken)
    const answer = await call(clients.read, 'listRelationTuples', request)
    for (const t of answer.getRelationTuplesList()) {
      seen.push(`${t.getNamespace()}:${t.getObject()}#${t.getRelation()}@${t.getSubject().getId()}`)
    }
    pageToken = answer.getNextPageToken()
    pages += 1
    assert.ok(pages < 100, 'pagination does not end')
  } while (pageToken !== '')
  return { seen, pages }
}

test('version and namespaces', async () => {
  const v = await call(clients.version, 'getVersion', new version.GetVersionRequest())
  assert.match(v.getVersion(), /^\d+\.\d+\.\d+/)
  const ns = await call(clients.namespaces, 'listNamespaces', new namespaces.ListNamespacesRequest())
  const names = ns.getNamespacesList().map((n) => n.getName()).sort()
  assert.deepEqual(names, ['document', 'folder', 'group', 'user'])
})

test('transact inserts and deletes; checks allow and deny, at a snapshot token', async () => {
  const doc = fresh('doc')
  const group = fresh('group')
  const written = await transact(
    delta(INSERT, tuple('document', doc, 'viewer', subjectId('alice'))),
    delta(INSERT, tuple('document', doc, 'viewer', subjectSet('group', group, 'member'))),
    delta(INSERT, tuple('group', group, 'member', subjectId('bob'))),
    delta(INSERT, tuple('document', doc, 'owner', subjectId('carol')))
  )
  const tokens = written.getSnaptokensList()
  assert.equal(tokens.length, 4)
  assert.ok(tokens[0].length > 0)

  assert.equal(await allowed(tuple('document', doc, 'view', subjectId('alice')), tokens[0]), true)
  assert.equal(await allowed(tuple('document', doc, 'view', subjectId('bob')), tokens[0]), true)
  assert.equal(await allowed(tuple('document', doc, 'edit', subjectId('carol')), tokens[0]), true)
  assert.equal(await allowed(tuple('document', doc, 'edit', subjectId('alice')), tokens[0]), false)
  assert.equal(await allowed(tuple('document', doc, 'view', subjectId('mallory')), tokens[0]), false)

  // The deprecated question fields still work.
  const old = new check.CheckRequest()
  old.setNamespace('document')
  old.setObject(doc)
  old.setRelation('view')
  old.setSubject(subjectId('alice'))
  old.setSnaptoken(tokens[0])
  assert.equal((await call(clients.check, 'check', old)).getAllowed(), true)

  const removed = await transact(delta(DELETE, tuple('group', group, 'member', subjectId('bob'))))
  const after = removed.getSnaptokensList()[0]
  assert.notEqual(after, tokens[0])
  assert.equal(await allowed(tuple('document', doc, 'view', subjectId('bob')), after), false)

  // `latest` reads the newest revision; the answer carries its token.
  const latest = new check.CheckRequest()
  latest.setTuple(tuple('document', doc, 'view', subjectId('bob')))
  latest.setLatest(true)
  const answer = await call(clients.check, 'check', latest)
  assert.equal(answer.getAllowed(), false)
  assert.ok(answer.getSnaptoken().length > 0)
})

test('list with pagination walks every tuple once', async () => {
  const doc = fresh('doc')
  const users = ['u1', 'u2', 'u3', 'u4', 'u5']
  await transact(...users.map((u) => delta(INSERT, tuple('document', doc, 'viewer', subjectId(u)))))
  const query = new rts.RelationQuery()
  query.setNamespace('document')
  query.setObject(doc)
  const { seen, pages } = await listAll(query, 2)
  assert.equal(pages, 3)
  assert.deepEqual(seen.sort(), users.map((u) => `document:${doc}#viewer@${u}`))
})

test('expand a subject set', async () => {
  const doc = fresh('doc')
  const group = fresh('group')
  await transact(
    delta(INSERT, tuple('document', doc, 'viewer', subjectId('alice'))),
    delta(INSERT, tuple('document', doc, 'viewer', subjectSet('group', group, 'member'))),
    delta(INSERT, tuple('group', group, 'member', subjectId('bob')))
  )
  const request = new expand.ExpandRequest()
  request.setSubject(subjectSet('document', doc, 'viewer'))
  request.setMaxDepth(5)
  const tree = (await call(clients.expand, 'expand', request)).getTree()
  assert.equal(tree.getNodeType(), expand.NodeType.NODE_TYPE_UNION)
  const leaves = []
  const walk = (node) => {
    if (node.getNodeType() === expand.NodeType.NODE_TYPE_LEAF) {
      const t = node.getTuple()
      leaves.push(t.getSubject().hasId() ? t.getSubject().getId() : '(set)')
    }
    node.getChildrenList().forEach(walk)
  }
  walk(tree)
  assert.ok(leaves.includes('alice'), `alice among the leaves ${leaves}`)
  assert.ok(leaves.includes('bob'), `bob among the leaves ${leaves}`)
})

test('delete by query', async () => {
  const doc = fresh('doc')
  await transact(
    delta(INSERT, tuple('document', doc, 'viewer', subjectId('alice'))),
    delta(INSERT, tuple('document', doc, 'owner', subjectId('bob')))
  )
  const query = new rts.RelationQuery()
  query.setNamespace('document')
  query.setObject(doc)
  query.setRelation('viewer')
  const request = new write.DeleteRelationTuplesRequest()
  request.setRelationQuery(query)
  await call(clients.write, 'deleteRelationTuples', request)
  const all = new rts.RelationQuery()
  all.setNamespace('document')
  all.setObject(doc)
  const { seen } = await listAll(all, 100)
  assert.deepEqual(seen, [`document:${doc}#owner@bob`])
})

test('errors carry gRPC codes', async () => {
  const request = new check.CheckRequest()
  request.setTuple(tuple('nosuchnamespace', 'x', 'view', subjectId('alice')))
  await assert.rejects(call(clients.check, 'check', request), (error) => {
    assert.ok([grpc.status.NOT_FOUND, grpc.status.INVALID_ARGUMENT].includes(error.code), `code ${error.code}`)
    assert.match(error.details, /nosuchnamespace/)
    return true
  })
  const bad = new check.CheckRequest()
  bad.setTuple(tuple('document', 'x', 'view', subjectId('alice')))
  bad.setSnaptoken('not-a-token')
  await assert.rejects(call(clients.check, 'check', bad), (error) => {
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT)
    return true
  })
})

test('syntax check', async () => {
  const good = new syntax.CheckRequest()
  good.setContent(Buffer.from('namespace user {}\n'))
  const ok = await call(clients.syntax, 'check', good)
  assert.deepEqual(ok.getParseErrorsList(), [])

  const broken = new syntax.CheckRequest()
  broken.setContent(Buffer.from('namespace user {}\nnamespace doc {\n  relation owner: nosuch\n}\n'))
  const answer = await call(clients.syntax, 'check', broken)
  const errors = answer.getParseErrorsList()
  assert.ok(errors.length >= 1)
  assert.match(errors[0].getMessage(), /nosuch/)
  assert.equal(errors[0].getStart().getLine(), 3)
})
