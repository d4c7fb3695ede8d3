#ifndef QEMU_OBJECT_H
#define QEMU_OBJECT_H

typedef struct InterfaceClass InterfaceClass;
typedef struct TypeInfo TypeInfo;

struct ObjectClass {
    const char *type_name;
};

struct Object {
    ObjectClass *klass;
    Object *parent;
};

struct InterfaceClass {
    ObjectClass parent_class;
};

struct TypeInfo {
    const char *name;
    const char *parent;
    size_t instance_size;
    size_t class_size;
    bool abstract;
    void (*instance_init)(Object *obj);
    void (*class_init)(ObjectClass *klass, void *data);
};

Object *object_dynamic_cast(Object *obj, const char *typename);
ObjectClass *object_get_class(Object *obj);
const char *object_get_typename(Object *obj);
void object_unparent(Object *obj);
void type_register_static(const TypeInfo *info);

/* The real casts check the type at run time; these only convert. */
#define OBJECT(obj) ((Object *)(obj))
#define OBJECT_CLASS(klass) ((ObjectClass *)(klass))
#define OBJECT_CHECK(type, obj, name) ((type *)(obj))
#define OBJECT_CLASS_CHECK(class_type, klass, name) ((class_type *)(klass))
#define OBJECT_GET_CLASS(class_type, obj, name) \
    OBJECT_CLASS_CHECK(class_type, object_get_class(OBJECT(obj)), name)
#define INTERFACE_CHECK(interface, obj, name) ((interface *)(obj))

#define DECLARE_INSTANCE_CHECKER(InstanceType, OBJ_NAME, TYPENAME) \
    static inline InstanceType *OBJ_NAME(const void *obj) \
    { return OBJECT_CHECK(InstanceType, obj, TYPENAME); }

#define DECLARE_CLASS_CHECKERS(ClassType, OBJ_NAME, TYPENAME) \
    static inline ClassType *OBJ_NAME##_GET_CLASS(const void *obj) \
    { return OBJECT_GET_CLASS(ClassType, obj, TYPENAME); } \
    static inline ClassType *OBJ_NAME##_CLASS(const void *klass) \
    { return OBJECT_CLASS_CHECK(ClassType, klass, TYPENAME); }

#define DECLARE_OBJ_CHECKERS(InstanceType, ClassType, OBJ_NAME, TYPENAME) \
    DECLARE_INSTANCE_CHECKER(InstanceType, OBJ_NAME, TYPENAME) \
    DECLARE_CLASS_CHECKERS(ClassType, OBJ_NAME, TYPENAME)

#define OBJECT_DECLARE_TYPE(InstanceType, ClassType, MODULE_OBJ_NAME) \
    typedef struct InstanceType InstanceType; \
    typedef struct ClassType ClassType; \
    DECLARE_OBJ_CHECKERS(InstanceType, ClassType, MODULE_OBJ_NAME, \
                         TYPE_##MODULE_OBJ_NAME)

#define OBJECT_DECLARE_SIMPLE_TYPE(InstanceType, MODULE_OBJ_NAME) \
    typedef struct InstanceType InstanceType; \
    DECLARE_INSTANCE_CHECKER(InstanceType, MODULE_OBJ_NAME, \
                             TYPE_##MODULE_OBJ_NAME)

#define type_init(function) \
    static void __attribute__((constructor)) do_init_##function(void) \
    { function(); }

#endif
